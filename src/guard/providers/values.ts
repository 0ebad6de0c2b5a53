// Values the data names ({setting} in an upstream, a token URL's parts), filled from the guard's
// own environment and checked against their patterns before any goes into a URL.
import type { Setting } from './catalogue';

/** Replace {name} with values; unknown names stay as they are. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function settingFromUrl(text: string): string | undefined {
  try {
    return new URL(text).hostname.split('.')[0];
  } catch {
    return undefined;
  }
}

/**
 * Values named in the data (a provider's settings, a token URL's parts) from the guard's environment.
 * Throws one line starting with `who`, naming the variables, when one is missing or does not match.
 */
export function resolveValues(settings: Setting[], env: NodeJS.ProcessEnv, who: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of settings) {
    const fromEnv = s.env.map((name) => env[name]?.trim()).find(Boolean);
    const value = fromEnv ?? (s.fromUrlEnv && env[s.fromUrlEnv] ? settingFromUrl(env[s.fromUrlEnv] as string) : undefined) ?? s.default;
    const names = [...s.env, ...(s.fromUrlEnv ? [s.fromUrlEnv] : [])].join(', ');
    if (value === undefined) throw new Error(`${who} needs its ${s.name}: set one of ${names}`);
    if (!s.pattern.test(value)) throw new Error(`${who}: ${s.name} "${value.slice(0, 80)}" (from ${names}) does not look like one`);
    out[s.name] = value;
  }
  return out;
}

