import { ReadinessService } from './readiness.service';

describe('ReadinessService', () => {
  it('is ready only when every registered check passes', async () => {
    const readiness = new ReadinessService();
    readiness.register('database', async () => undefined);
    readiness.register('nats', async () => {
      throw new Error('down');
    });
    expect(await readiness.evaluate()).toEqual({
      ready: false,
      checks: { database: 'up', nats: 'down' },
    });
  });

  it('counts a check that hangs as down instead of hanging the probe', async () => {
    const readiness = new ReadinessService();
    readiness.register('database', () => new Promise(() => undefined));
    expect(await readiness.evaluate(20)).toEqual({ ready: false, checks: { database: 'down' } });
  });

  it('turns unready once shutdown starts, so load balancers stop sending traffic', async () => {
    const readiness = new ReadinessService();
    readiness.register('database', async () => undefined);
    expect((await readiness.evaluate()).ready).toBe(true);
    readiness.markShuttingDown();
    expect(await readiness.evaluate()).toEqual({
      ready: false,
      checks: { database: 'up', shutdown: 'in progress' },
    });
  });
});
