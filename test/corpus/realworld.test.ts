// Regression data: every `vulnerable` workflow in the labelled real-world corpus gets a high or
// critical finding, and no `safe` one does. `unclear` rows are not asserted.
import path from 'node:path';
import { SHARED, corpusPresent, describeFindings, highOrCritical, lintFile, readLabels } from './helpers';

const dir = path.join(SHARED, 'realworld');
const present = corpusPresent('realworld');

(present ? describe : describe.skip)('real-world corpus', () => {
  const rows = present ? readLabels(dir) : [];
  const vulnerable = rows.filter((r) => r.label === 'vulnerable');
  const safe = rows.filter((r) => r.label === 'safe');

  it('has labelled rows to check', () => {
    expect(vulnerable.length).toBeGreaterThan(10);
    expect(safe.length).toBeGreaterThan(10);
  });

  it.each(vulnerable.map((r) => r.file))('vulnerable: %s gets a high or critical finding', (file) => {
    const { findings, errors } = lintFile(path.join(dir, file));
    expect(errors).toEqual([]);
    const serious = highOrCritical(findings);
    if (!serious.length) throw new Error(`no high/critical finding; got:\n${describeFindings(findings)}`);
  });

  it.each(safe.map((r) => r.file))('safe: %s gets no high or critical finding', (file) => {
    const { findings, errors } = lintFile(path.join(dir, file));
    expect(errors).toEqual([]);
    const serious = highOrCritical(findings);
    if (serious.length) throw new Error(`unexpected:\n${describeFindings(serious)}`);
  });
});
