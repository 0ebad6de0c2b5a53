// dist/ is committed so `npx agent-guard` and the Action work without a build. This fails when
// someone changed src/ or rules/ and did not run `npm run bundle`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

describe('dist/', () => {
  it('is what `npm run bundle` produces from the current src/ and rules/', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-dist-'));
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), out], { stdio: 'pipe' });
      const fresh = fs.readFileSync(path.join(out, 'cli.js'), 'utf8');
      const committed = fs.readFileSync(path.join(root, 'dist/cli.js'), 'utf8');
      if (fresh !== committed) throw new Error('dist/cli.js is stale: run `npm run bundle` and commit dist/');
      // The build leaves the bin executable, so rebuilding does not flip its mode in git.
      expect(fs.statSync(path.join(out, 'cli.js')).mode & 0o111).toBe(0o111);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('dist/cli.js in git', () => {
  // npm makes a package's bin executable on install; committed as 100755, `npm ci` leaves
  // `git status` clean. Read from git's index, which is what a clone checks out.
  const inGit = fs.existsSync(path.join(root, '.git'));
  (inGit ? it : it.skip)('is committed executable (mode 100755)', () => {
    const entry = execFileSync('git', ['ls-files', '--stage', '--', 'dist/cli.js'], { cwd: root, encoding: 'utf8' });
    expect(entry.split(/\s+/)[0]).toBe('100755');
  });
});
