import { FORMATS, colorEnabled, formatReport, isFormat } from '../../src/report';
import { formatGithub } from '../../src/report/github';
import { formatJson } from '../../src/report/json';
import { formatSarif } from '../../src/report/sarif';
import { formatText } from '../../src/report/text';
import { makeResult } from './fixtures';

describe('formatReport', () => {
  const opts = { toolVersion: '0.1.0', root: '/repo' };

  it('dispatches to each format', () => {
    expect(formatReport(makeResult(), 'text', opts)).toBe(formatText(makeResult()));
    expect(formatReport(makeResult(), 'text', { ...opts, color: true })).toBe(formatText(makeResult(), { color: true }));
    expect(formatReport(makeResult(), 'json', opts)).toBe(formatJson(makeResult(), opts));
    expect(formatReport(makeResult(), 'sarif', opts)).toBe(formatSarif(makeResult(), opts));
    expect(formatReport(makeResult(), 'github', opts)).toBe(formatGithub(makeResult(), opts));
  });

  it('colours only the text format', () => {
    for (const f of ['json', 'sarif', 'github'] as const) {
      expect(formatReport(makeResult(), f, { ...opts, color: true })).not.toContain('\x1b');
    }
  });

  it('rejects an unknown format', () => {
    expect(() => formatReport(makeResult(), 'xml' as never, opts)).toThrow(/unknown report format/);
    expect(FORMATS).toEqual(['text', 'json', 'sarif', 'github']);
    expect(isFormat('sarif')).toBe(true);
    expect(isFormat('xml')).toBe(false);
  });
});

describe('colorEnabled', () => {
  it('colours a TTY and nothing else by default', () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(undefined, {})).toBe(false);
  });

  it('honours NO_COLOR, FORCE_COLOR and TERM=dumb', () => {
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(true, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(true, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(true, { TERM: 'dumb' })).toBe(false);
  });
});
