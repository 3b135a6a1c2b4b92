// The site as ZooKeeper sees it (the view `gridkeeper status` prints), cached in the agent for the
// site page. Reading the view costs a few dozen ZooKeeper round trips, so it is never read per page
// client: whoever asks gets the cached view, and asking is what keeps it fresh. A view older than
// `maxAgeMs` (2 s) starts one refresh in the background, shared by every asker; nobody looking, no
// reads. While the session is not connected nothing is read: the last view stays, with its age and
// the reason it is not newer, so the page can say how old its picture of the site is.
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { SessionState } from '../../coordination/session.js';
import type { SiteView } from '../../coordination/site-view.js';

export const SITE_VIEW_MAX_AGE_MS = 2000;
/** A refresh still running after this is given up (a new one may start; a late answer is dropped), ms. */
const REFRESH_TIMEOUT_MS = 5000;

export interface CachedSiteView {
  /** The last view read; null before the first. */
  view: SiteView | null;
  /** How old `view` is, ms (monotonic); null before the first. */
  ageMs: number | null;
  /** Why the last refresh did not give a newer view; null when it did. */
  error: string | null;
}

export class SiteViewCache {
  private view: SiteView | null = null;
  private readAtMono: number | null = null;
  private error: string | null = null;
  private inFlight: Promise<void> | null = null;
  private inFlightSinceMono = 0;
  /** When the last refresh started (monotonic): a failing one is not retried sooner than maxAgeMs either. */
  private lastAttemptMono: number | null = null;
  /** Counts refreshes; an answer of an abandoned one is dropped. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly deps: {
      read: () => Promise<SiteView>;
      sessionState: () => SessionState;
      clock: Clock;
      logger: Logger;
    },
    private readonly opts: { maxAgeMs?: number } = {},
  ) {}

  /** The cached view; starts a refresh when it is older than maxAgeMs. Never waits for ZooKeeper. */
  current(): CachedSiteView {
    this.refreshIfOld();
    return this.snapshot();
  }

  /** As current(), but waits up to `waitMs` for a refresh it started or found running. */
  async fresh(waitMs: number): Promise<CachedSiteView> {
    const running = this.refreshIfOld();
    if (running !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    return this.snapshot();
  }

  close(): void {
    this.closed = true;
  }

  private snapshot(): CachedSiteView {
    const ageMs = this.readAtMono === null ? null : this.deps.clock.monotonicMs() - this.readAtMono;
    return { view: this.view, ageMs, error: this.error };
  }

  /** The refresh now running (started here or before), or null when none is needed or possible. */
  private refreshIfOld(): Promise<void> | null {
    const now = this.deps.clock.monotonicMs();
    if (this.inFlight !== null && now - this.inFlightSinceMono < REFRESH_TIMEOUT_MS) return this.inFlight;
    if (this.inFlight !== null) this.error = `reading the site from ZooKeeper took more than ${REFRESH_TIMEOUT_MS} ms`;
    this.inFlight = null;
    if (this.closed) return null;
    if (this.lastAttemptMono !== null && now - this.lastAttemptMono < (this.opts.maxAgeMs ?? SITE_VIEW_MAX_AGE_MS)) return null;
    const state = this.deps.sessionState();
    if (state !== 'connected') {
      this.error = `ZooKeeper session ${state}`;
      return null;
    }
    const generation = ++this.generation;
    this.inFlightSinceMono = now;
    this.lastAttemptMono = now;
    const running = this.deps.read().then(
      (view) => {
        if (generation !== this.generation || this.closed) return;
        this.view = view;
        this.readAtMono = this.deps.clock.monotonicMs();
        this.error = null;
      },
      (err: unknown) => {
        if (generation !== this.generation || this.closed) return;
        this.error = `reading the site from ZooKeeper failed: ${err instanceof Error ? err.message : String(err)}`;
        this.deps.logger.debug({ err }, 'site view refresh failed');
      },
    );
    this.inFlight = running.finally(() => {
      if (generation === this.generation) this.inFlight = null;
    });
    return this.inFlight;
  }
}
