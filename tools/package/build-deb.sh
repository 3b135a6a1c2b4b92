#!/usr/bin/env bash
# `npm run package [-- OUTDIR]`: builds OUTDIR/gridkeeper_<version>_<arch>.deb (OUTDIR: dist-deb/)
# for this machine's architecture (dpkg --print-architecture). The package holds the product only,
# where Debian puts a program of its own:
#
#   /usr/lib/gridkeeper/          dist/ (compiled afresh from src/), bin/, profiles/ and any other
#                                 folder package.json "files" names, a package.json, and the
#                                 production node_modules (npm ci --omit=dev, run here, so the
#                                 native modules zookeeper and @serialport/bindings-cpp are built
#                                 for this architecture and this Node.js major version)
#   /usr/bin/gridkeeper           a link to ../lib/gridkeeper/bin/gridkeeper
#   /usr/lib/systemd/system/      the units of systemd/ (gridkeeper@.service, ...), unchanged
#   /usr/lib/sysusers.d/          gridkeeper.conf, from systemd/sysusers.d/
#   /etc/gridkeeper/              empty: the administrator's site files go there
#   /usr/share/doc/gridkeeper/    copyright, changelog.gz, examples/ (the files of config/)
#   /usr/share/man/man1/          gridkeeper.1.gz, from docs/gridkeeper.1
#
# No tests, tools, TypeScript sources, source maps or development dependencies. The maintainer
# scripts, the changelog and the copyright header are in tools/package/debian/.
# Needs dpkg-deb, dpkg-shlibdeps and dpkg-parsechangelog (dpkg-dev), strip (binutils), and what
# `npm ci` needs to compile the zookeeper module (python3, make, g++).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tools/package"
out=$(realpath -m "${1:-$repo/dist-deb}")
cd "$repo"

log() { printf '[package] %s\n' "$*"; }
die() {
    printf '[package] error: %s\n' "$*" >&2
    exit 1
}

# --- What is built, for what ----------------------------------------------------------------------
name=$(node -p 'require("./package.json").name')
version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: gridkeeper needs 20 or later"

changelog="$here/debian/changelog"
changelog_version=$(dpkg-parsechangelog -l "$changelog" -S Version)
[ "$changelog_version" = "$version" ] ||
    die "package.json says $version, the top entry of $changelog says $changelog_version: add an entry"
# Every file of the package gets the changelog's date: the same sources give the same package.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$changelog" -S Timestamp)
export SOURCE_DATE_EPOCH

deb="${name}_${version}_${arch}.deb"
work=$(mktemp -d "${TMPDIR:-/tmp}/gridkeeper-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The layout debhelper uses (debian/<package>/), which dpkg-shlibdeps expects.
root="$work/debian/$name"
app="$root/usr/lib/$name"
doc="$root/usr/share/doc/$name"
mkdir -p "$app" "$doc/examples" "$root/usr/bin" "$root/usr/lib/systemd/system" \
    "$root/usr/lib/sysusers.d" "$root/usr/share/man/man1" "$root/etc/$name" "$root/DEBIAN"
log "building $deb (Node.js $(node --version))"

# --- The product: package.json "files" --------------------------------------------------------------
for entry in $(node -p 'require("./package.json").files.join("\n")'); do
    case "$entry" in
    dist)
        # Compiled here rather than copied: dist/ in the work tree may be stale. A type error
        # fails the build, as `npm run build` does.
        log "compiling src/ into usr/lib/$name/dist"
        node_modules/.bin/tsc -p tsconfig.build.json --outDir "$app/dist" --sourceMap false
        ;;
    systemd)
        # Units and sysusers entries, unchanged, where systemd looks for a package's own.
        for unit in systemd/*.service systemd/*.socket systemd/*.target systemd/*.timer; do
            if [ -e "$unit" ]; then install -m 0644 "$unit" "$root/usr/lib/systemd/system/"; fi
        done
        install -m 0644 systemd/sysusers.d/*.conf "$root/usr/lib/sysusers.d/"
        ;;
    docs/*.1)
        # The man page (package.json "man" for npm): installed below, gzipped, in man1.
        ;;
    config/*)
        # Samples (example-site.yaml, ...) are documentation: in /etc they would be conffiles, and
        # /etc/gridkeeper holds the administrator's site files only.
        install -m 0644 "$entry" "$doc/examples/"
        ;;
    *)
        [ -e "$entry" ] || die "package.json \"files\" names $entry, which does not exist"
        cp -R --parents "$entry" "$app/"
        ;;
    esac
done
# Debian runs scripts with the interpreter the package depends on, not whatever `env` finds first.
sed -i '1s|^#!/usr/bin/env node$|#!/usr/bin/node|' "$app/bin/gridkeeper"
ln -s "../lib/$name/bin/gridkeeper" "$root/usr/bin/gridkeeper"

# --- Production node_modules --------------------------------------------------------------------------
# npm ci runs the root package's lifecycle scripts: without them (prepare would compile src/,
# which is not here). The lock file still matches: it does not record scripts.
node -e '
  const manifest = require("./package.json");
  delete manifest.scripts;
  require("fs").writeFileSync(process.argv[1], JSON.stringify(manifest, null, 2) + "\n");
' "$app/package.json"
cp package-lock.json "$app/"
log "npm ci --omit=dev (compiles the native modules)"
(
    cd "$app"
    # The native modules are compiled here, with Debian's hardening flags (stack protector,
    # fortify, relro, bindnow). @serialport/bindings-cpp would take one of the binaries it comes
    # with: without them, `npm rebuild` runs its install script (node-gyp-build) again, which then
    # compiles it.
    eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
    export NODE_ENV=production
    npm ci --omit=dev --no-audit --no-fund --prefer-offline --loglevel=warn
    rm -rf node_modules/@serialport/bindings-cpp/prebuilds
    npm rebuild @serialport/bindings-cpp --loglevel=warn
)
# What stays: the manifest the program reads (name for packageRoot(), version, type: module).
node -e '
  const m = require(process.argv[1]);
  const kept = { name: m.name, version: m.version, description: m.description, license: m.license,
    type: m.type, bin: m.bin, engines: m.engines, dependencies: m.dependencies };
  require("fs").writeFileSync(process.argv[1], JSON.stringify(kept, null, 2) + "\n");
' "$app/package.json"
rm "$app/package-lock.json"

# The native modules (zookeeper, @serialport/bindings-cpp, ...: each package with a binding.gyp):
# build/Release/*.node is what node-gyp-build and bindings load. Their C and C++ sources, object
# files, build scripts and binaries for other systems are not.
modules="$app/node_modules"
mapfile -t gyps < <(find "$modules" -name binding.gyp -type f)
for gyp in "${gyps[@]}"; do
    dir=$(dirname "$gyp")
    [ -f "$dir/package.json" ] || continue # a test project inside a module, not the module
    keep="$work/native"
    mkdir "$keep"
    find "$dir/build/Release" -maxdepth 1 -name '*.node' -exec mv {} "$keep/" \;
    [ -n "$(ls "$keep")" ] || die "npm ci did not build ${dir#"$app/"}/build/Release/*.node"
    rm -rf "$dir/build" "$dir/prebuilds" "$gyp"
    find "$dir" -type f \( -name '*.c' -o -name '*.cc' -o -name '*.cpp' -o -name '*.h' -o -name '*.hh' \
        -o -name '*.hpp' \) -delete
    mkdir -p "$dir/build"
    mv "$keep" "$dir/build/Release"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$dir/build/Release/"*.node
done
# zookeeper's deps/ held the Apache ZooKeeper C client, now inside zookeeper.node: keep its notices.
zk="$app/node_modules/zookeeper"
find "$zk/deps" -type f ! -name LICENSE ! -name LICENSE.txt ! -name NOTICE.txt -delete
find "$zk/deps" -type d -empty -delete
rm -rf "$zk/scripts" "$zk/tests" "$zk/examples" "$zk"/Dockerfile* "$zk/docker-compose.yml" "$zk/eslint.config.mjs" "$zk/tsconfig.json"

# What modules publish beside their code and nothing loads: their tests, docs, TypeScript sources
# and declarations, source maps, and dot files (npm and git metadata, CI settings). Licence and
# notice files stay.
find "$modules" -mindepth 1 -name '.*' -prune -exec rm -rf {} +
find "$modules" -type d \( -name test -o -name tests -o -name __tests__ -o -name example -o -name examples \
    -o -name docs -o -name benchmarks \) -prune -exec rm -rf {} +
find "$modules" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.html' \
    -o \( -name '*.md' ! -iname 'licen[cs]e*' ! -iname 'notice*' \) \) -delete
find "$modules" -type d -empty -delete

# --- Documentation --------------------------------------------------------------------------------------
gzip -9n <docs/gridkeeper.1 >"$root/usr/share/man/man1/gridkeeper.1.gz"
gzip -9n <"$changelog" >"$doc/changelog.gz"
{
    cat "$here/debian/copyright"
    # One line per bundled module: name, version, license (npm ls knows the installed tree).
    (cd "$app" && npm ls --omit=dev --all --json --long 2>/dev/null) | node -e '
      const seen = new Map();
      const walk = (deps) => Object.values(deps ?? {}).forEach((d) => {
        if (d.name && d.version) seen.set(`${d.name}@${d.version}`, `${d.name} ${d.version}: ${d.license ?? "see its folder"}`);
        walk(d.dependencies);
      });
      walk(JSON.parse(require("fs").readFileSync(0, "utf8")).dependencies);
      console.log([...seen.keys()].sort().map((k) => " " + seen.get(k)).join("\n"));
    '
    printf '\nzookeeper.node (in node_modules/zookeeper) contains the Apache ZooKeeper C client,\n'
    printf 'Apache-2.0; its LICENSE and NOTICE.txt are in node_modules/zookeeper/deps/.\n'
} >"$doc/copyright"

# --- Control files --------------------------------------------------------------------------------------
for script in postinst prerm postrm; do
    install -m 0755 "$here/debian/$script" "$root/DEBIAN/"
done
# Shared libraries the native modules link (libc6, libstdc++6, ...), as dpkg-shlibdeps finds them.
mkdir -p "$work/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$work/debian/control"
mapfile -t binaries < <(find "$root" -name '*.node' -type f)
shlibs=$(cd "$work" && dpkg-shlibdeps -O --warnings=2 "${binaries[@]}" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no shared library dependencies for ${binaries[*]}"

# Directories 0755, files 0644, and 0755 for scripts (a first line #!) only: npm leaves licence
# files executable here and there, and the native modules are shared objects, loaded, not run.
find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$root" -path "$root/DEBIAN" -prune -o -type f -exec chmod 0644 {} +
find "$root" -path "$root/DEBIAN" -prune -o -type f -exec awk 'FNR == 1 && /^#!/ { print FILENAME } { nextfile }' {} + |
    while IFS= read -r script; do chmod 0755 "$script"; done

installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
# nodejs: the major version that built the modules, and no other. The zookeeper module is compiled
# against that major's ABI (NODE_MODULE_VERSION) and does not load in another one.
cat >"$root/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: $(dpkg-parsechangelog -l "$changelog" -S Maintainer)
Installed-Size: $installed_kb
Depends: nodejs (>= $node_major), nodejs (<< $((node_major + 1))), $shlibs
Suggests: stunnel4
Section: net
Priority: optional
Description: Modbus to ZooKeeper gateway agent for energy sites
 gridkeeper polls inverters, wind turbines and battery management systems
 over Modbus RTU and Modbus TCP, publishes their readings to Apache
 ZooKeeper, and applies control commands only while it holds the site lock:
 of two or three gateways at one site, exactly one controls the hardware,
 and another takes over when it dies.
 .
 Each site runs as an instance of the systemd unit gridkeeper@SITE, which
 reads /etc/gridkeeper/SITE.yaml.
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0755 "$root/DEBIAN"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$out"
rm -f "$out/$deb"
dpkg-deb --root-owner-group --build "$root" "$out/$deb" >/dev/null
log "built $out/$deb ($(du -h "$out/$deb" | cut -f1), installed $((installed_kb / 1024)) MiB)"
