/** Time source of everything that issues or checks an expiry; tests inject a frozen one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };

export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
