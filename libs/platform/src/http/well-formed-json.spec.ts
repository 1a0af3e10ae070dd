import { isWellFormedJson } from './well-formed-json';

describe('isWellFormedJson', () => {
  it.each([
    ['a lone high surrogate in a value', { name: JSON.parse('"a\\ud800"') }],
    ['a lone low surrogate deep in an array', { a: [1, { b: ['x', JSON.parse('"\\udc00"')] }] }],
    ['a lone surrogate in a key', JSON.parse('{"k\\ud800": 1}')],
    ['a bare string body', JSON.parse('"\\ud83d"')],
  ])('refuses %s', (_case, value) => {
    expect(isWellFormedJson(value)).toBe(false);
  });

  it('accepts pairs (emoji), any other text, numbers, null and empty containers', () => {
    expect(isWellFormedJson({ name: 'Ada 😀', n: 1, z: null, t: true, a: [], o: {} })).toBe(true);
    expect(isWellFormedJson(JSON.parse('{"e": "\\ud83d\\ude00"}'))).toBe(true);
  });

  it('walks a deeply nested body without exhausting the stack', () => {
    const depth = 200_000;
    const nested = JSON.parse('['.repeat(depth) + '"\\ud800"' + ']'.repeat(depth));
    expect(isWellFormedJson(nested)).toBe(false);
  });
});
