// Exact decimal arithmetic for scaling Modbus values: a decimal is `m * 10^e` with a BigInt `m`.
// Doing raw * scale * 10^sf + offset exactly and rounding to a double once at the end gives
// 2301 * 0.1 = 230.1 (not 230.10000000000002), and lets encoding round to the nearest raw integer
// without being fooled by binary float noise at the .5 boundary.

export interface Decimal {
  readonly m: bigint;
  readonly e: number;
}

const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/;

/**
 * The decimal a JS number prints as (shortest round-trip form: 0.1 is 1e-1, not the binary
 * 0.1000000000000000055...), or of a decimal string such as `1.5e-7`. Integers beyond 2^53 are
 * taken exactly (2^63 prints as 9223372036854776000 but is 9223372036854775808).
 */
export function decimalOf(x: number | string): Decimal {
  if (typeof x === 'number' && Number.isInteger(x) && Math.abs(x) >= 2 ** 53) return { m: BigInt(x), e: 0 };
  const text = typeof x === 'number' ? String(x) : x;
  const match = NUMBER_TEXT.exec(text);
  if (match === null) throw new RangeError(`not a finite decimal: ${text}`);
  const [, sign = '', whole = '0', fraction = '', exponent = '0'] = match;
  return { m: BigInt(`${sign}${whole}${fraction}`), e: Number(exponent) - fraction.length };
}

export function decimalOfBigInt(m: bigint): Decimal {
  return { m, e: 0 };
}

export function mul(a: Decimal, b: Decimal): Decimal {
  return { m: a.m * b.m, e: a.e + b.e };
}

/** a * 10^n */
export function shift(a: Decimal, n: number): Decimal {
  return { m: a.m, e: a.e + n };
}

export function add(a: Decimal, b: Decimal): Decimal {
  if (b.m === 0n) return a;
  if (a.m === 0n) return b;
  const e = Math.min(a.e, b.e);
  return { m: a.m * pow10(a.e - e) + b.m * pow10(b.e - e), e };
}

export function neg(a: Decimal): Decimal {
  return { m: -a.m, e: a.e };
}

/** The double nearest to the decimal (one correctly rounded conversion). */
export function toNumber(a: Decimal): number {
  return Number(`${a.m}e${a.e}`);
}

/** a / b rounded to the nearest integer, ties away from zero. b must not be zero. */
export function divRound(a: Decimal, b: Decimal): bigint {
  const { num, den } = ratio(a, b);
  const negative = num < 0n !== den < 0n;
  const n = abs(num);
  const d = abs(den);
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

/** a / b as the nearest double (computed to 25 significant digits first, then rounded once). */
export function divToNumber(a: Decimal, b: Decimal): number {
  const { num, den } = ratio(a, b);
  if (num === 0n) return 0;
  // Scale the numerator so the integer quotient carries at least 25 significant digits.
  const digits = abs(num).toString().length - abs(den).toString().length;
  const k = Math.max(0, 25 - digits);
  const q = (num * pow10(k)) / den;
  return Number(`${q}e${-k}`);
}

function ratio(a: Decimal, b: Decimal): { num: bigint; den: bigint } {
  if (b.m === 0n) throw new RangeError('division by zero');
  const e = a.e - b.e;
  return e >= 0 ? { num: a.m * pow10(e), den: b.m } : { num: a.m, den: b.m * pow10(-e) };
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}
