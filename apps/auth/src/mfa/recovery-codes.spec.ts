import { isRecoveryCode, newRecoveryCode } from './recovery-codes';

describe('newRecoveryCode', () => {
  it('draws its 24 characters evenly from all 32 of base32 (120 bits)', () => {
    const counts = new Map<string, number>();
    const codes = 4000;
    for (let i = 0; i < codes; i++) {
      const code = newRecoveryCode();
      expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/);
      for (const char of code.replace(/-/g, '')) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe('234567abcdefghijklmnopqrstuvwxyz');
    // 96,000 characters: 3,000 ± 54 (one standard deviation) of each; ±300 is over 5 of them,
    // while a biased draw (e.g. byte % 26 shifted into the alphabet) is off by hundreds.
    for (const [char, count] of counts) {
      expect({ char, even: count > 2700 && count < 3300 }).toEqual({ char, even: true });
    }
  });

  it('is what the login accepts, in any case and without dashes', () => {
    const code = newRecoveryCode();
    expect(isRecoveryCode(code)).toBe(true);
    expect(isRecoveryCode(code.toUpperCase().replace(/-/g, ''))).toBe(true);
    expect(isRecoveryCode(code.slice(0, -1))).toBe(false);
    expect(isRecoveryCode('123456')).toBe(false);
  });
});
