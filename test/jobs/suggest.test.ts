import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../jobs/suggest.js';

describe('did-you-mean for field names', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('qourum', 'quorum')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests a close name, case-insensitively, and nothing for a far one', () => {
    expect(closestName('To', ['from', 'to', 'unitSize'])).toBe('to');
    expect(closestName('samplesPerUnits', ['workUnits', 'samplesPerUnit', 'seed'])).toBe('samplesPerUnit');
    expect(closestName('replicas', ['replication', 'quorum', 'lease'])).toBeUndefined();
    expect(closestName('colour', ['workUnits', 'payloadBytes'])).toBeUndefined();
  });
});
