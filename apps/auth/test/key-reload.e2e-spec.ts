import { Logger } from '@nestjs/common';
import { eventually } from '../../../test/support/eventually';
import { SigningKeyStore } from '../src/keys/signing-key.store';
import { startAuthTestApp, type AuthTestApp } from './support/auth-test-app';

// The store re-reads signing_keys every KEY_RELOAD_INTERVAL_SECONDS (keys/signing-key.store.ts).
// A timed reload that fails (database briefly away) must not go unnoticed: it is logged, and the
// keys loaded before stay in use.
let auth: AuthTestApp;
beforeAll(async () => {
  auth = await startAuthTestApp('auth_key_reload', { KEY_RELOAD_INTERVAL_SECONDS: '1' });
});
afterAll(async () => auth?.close());

it('logs a failed timed reload with its error and keeps signing with the keys loaded before', async () => {
  const store = auth.app.get(SigningKeyStore);
  const signing = store.current().kid;
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const failure = Object.assign(new Error('Connection terminated unexpectedly'), {
    code: 'ECONNRESET',
  });
  const reloads: Promise<void>[] = [];
  // Nothing else asks the store for keys here (no request, no rotation): the calls are the timer's.
  const reload = jest.spyOn(store, 'reload').mockImplementation(() => {
    const rejected = Promise.reject(failure);
    reloads.push(rejected);
    return rejected;
  });
  try {
    await eventually(() => reloads.length > 0, 5_000, 20, 'a timed reload');
    // The timer's handler awaited the rejection first; one more turn lets its catch finish.
    await reloads[0].catch(() => undefined);
    await new Promise(setImmediate);
    expect(warn).toHaveBeenCalledWith(
      { err: failure },
      'signing key reload failed: the keys loaded before stay in use',
    );
    expect(store.current().kid).toBe(signing);
  } finally {
    reload.mockRestore();
    warn.mockRestore();
  }
});

it('reports the replica not ready once its keys were not reloaded for 3 intervals, and ready again after a reload', async () => {
  const store = auth.app.get(SigningKeyStore);
  const ready = async () => {
    const response = await fetch(`${auth.url}/health/ready`);
    const body = (await response.json()) as { error?: { message: string } };
    return { status: response.status, message: body.error?.message ?? '' };
  };
  await eventually(async () => (await ready()).status === 200, 5_000, 50, 'ready at first');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const reload = jest
    .spyOn(store, 'reload')
    .mockRejectedValue(new Error('Connection terminated unexpectedly'));
  try {
    // Not at the first failure: a reload may fail now and then (one database hiccup). Nor
    // because auth's clock moved (tests move it by hours): the check reads real time.
    auth.clock.advance(3_600_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await ready()).toEqual({ status: 200, message: '' });
    // KEY_RELOAD_INTERVAL_SECONDS is 1: not ready after 3 s without a successful reload.
    const down = await eventually(
      async () => {
        const state = await ready();
        return state.status === 503 ? state : undefined;
      },
      8_000,
      100,
      'not ready',
    );
    expect(down.message).toContain('signing-keys down');
  } finally {
    reload.mockRestore();
    warn.mockRestore();
  }
  await eventually(async () => (await ready()).status === 200, 5_000, 100, 'ready again');
});
