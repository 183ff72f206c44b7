// The worker module of bench/workers.ts: CPU-bound work, and nothing (to time a task's round trip).

/** Busy for `ms` milliseconds of CPU, then answers `ms`. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return ms;
}

/** Hands its argument back: a task that costs only its trip to the thread and back. */
export function identity<T>(value: T): T {
  return value;
}

/** Piscina calls the default export. */
export default function piscinaTask({ name, value }: { name: "spin" | "identity"; value: number }): number {
  return name === "spin" ? spin(value) : identity(value);
}
