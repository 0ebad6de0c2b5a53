// Large runs are split across worker threads by the bundled CLI; the result must be exactly what a
// single-threaded lint finds.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lint } from '../src/lint';
import { formatReport } from '../src/report';
import { PARALLEL_THRESHOLD } from '../src/parallel';

const root = path.resolve(__dirname, '..');
const fixtures = path.join(root, 'test/fixtures/rules');

describe('parallel lint', () => {
  it('finds exactly what the single-threaded lint finds', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-guard-parallel-'));
    try {
      const workflows = path.join(dir, '.github', 'workflows');
      fs.mkdirSync(workflows, { recursive: true });
      const seeds = fs.readdirSync(fixtures).filter((f) => f.endsWith('.yml'));
      const count = PARALLEL_THRESHOLD + 64;
      for (let i = 0; i < count; i++) {
        fs.copyFileSync(path.join(fixtures, seeds[i % seeds.length]), path.join(workflows, `w${String(i).padStart(4, '0')}-${seeds[i % seeds.length]}`));
      }
      const env = { ...process.env, AGENT_GUARD_THREADS: '3' };
      const cli = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'lint', '--format', 'json', '--fail-on', 'none', '.'], { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(cli.status).toBe(0);
      const parallel = JSON.parse(cli.stdout);
      const serial = JSON.parse(formatReport(lint({ paths: [dir], cwd: dir }), 'json', { toolVersion: 'test' }));
      expect(parallel.stats.workflows).toBe(count);
      expect(parallel.stats.threads).toBe(3);
      expect(serial.stats.threads).toBe(1);
      expect(parallel.findings.length).toBeGreaterThan(count / 2);
      expect(parallel.findings).toEqual(serial.findings);
      expect(parallel.errors).toEqual(serial.errors);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
