import { acceptRequestId, currentRequestId, runWithRequestContext } from './request-context';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('keeps a short, plain caller-supplied id', () => {
    expect(acceptRequestId('web-7f3a.1:2')).toBe('web-7f3a.1:2');
  });

  it.each([
    ['a line break (log forging)', 'abc\n{"level":50}'],
    ['spaces and quotes', 'a "b"'],
    ['more than 128 characters', 'x'.repeat(129)],
    ['an empty value', ''],
    ['a non-string', 42],
  ])('replaces an id with %s by a new UUID', (_, candidate) => {
    expect(acceptRequestId(candidate)).toMatch(UUID);
  });

  it('is visible to everything the unit of work calls, and only there', async () => {
    expect(currentRequestId()).toBeUndefined();
    await runWithRequestContext({ requestId: 'r-1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(currentRequestId()).toBe('r-1');
    });
    expect(currentRequestId()).toBeUndefined();
  });
});
