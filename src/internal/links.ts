/**
 * Signals linked to one shared signal (a run's), through a single listener on
 * it however many are linked at once: a concurrent map's retry waits and
 * per-call deadlines would otherwise add one listener each, and Node warns
 * (MaxListenersExceededWarning) past ten. `AbortSignal.any` is not used: on
 * Node 20 it loses timeouts and holds memory per call.
 */
export class SignalLinks {
  readonly #shared: AbortSignal;
  readonly #linked = new Set<AbortController>();
  #listening = false;

  constructor(shared: AbortSignal) {
    this.#shared = shared;
  }

  /** A controller whose signal aborts when the shared one does (at once if it has); `unlink` it once done. */
  link(): AbortController {
    const controller = new AbortController();
    if (this.#shared.aborted) {
      controller.abort(this.#shared.reason);
      return controller;
    }
    if (!this.#listening) {
      this.#listening = true;
      this.#shared.addEventListener("abort", this.#abortAll, { once: true });
    }
    this.#linked.add(controller);
    return controller;
  }

  unlink(controller: AbortController): void {
    this.#linked.delete(controller);
  }

  readonly #abortAll = (): void => {
    for (const controller of this.#linked) controller.abort(this.#shared.reason);
    this.#linked.clear();
  };
}
