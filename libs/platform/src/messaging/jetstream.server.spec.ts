import { DEFAULT_MAX_DELIVER, redeliveryDelayMs } from './jetstream.server';

describe('redelivery of a message that keeps failing', () => {
  it('backs off 1 s, 2 s, 4 s, ... up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(redeliveryDelayMs)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
  });

  it('goes on for longer than a 15-minute outage before the message is dead-lettered', () => {
    let waited = 0;
    for (let delivery = 1; delivery < DEFAULT_MAX_DELIVER; delivery++) {
      waited += redeliveryDelayMs(delivery);
    }
    expect(waited).toBeGreaterThan(15 * 60_000);
  });
});
