// How the proxy puts a credential on a request. One implementation per kind of credential in
// rules/providers.yml; the proxy only ever calls authorize() on the request it is about to send,
// after its body and every other header are final (a signature covers them).
import type http from 'node:http';

export interface UpstreamRequest {
  method: string;
  url: URL;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

export interface Authorizer {
  /** Which variable the credential came from and its kind, for messages (never the value). */
  readonly source: string;
  /** Values the agent must never see, for the environment's secret filter. */
  readonly secrets: string[];
  /** Obtain the credential before the agent starts: throws with one line when it cannot. */
  prepare(): Promise<void>;
  authorize(req: UpstreamRequest): Promise<void>;
}

/** Fill `headers` with {secret}; add each `listHeaders` value to the agent's comma-separated list. */
export function applyHeaderTemplates(
  req: UpstreamRequest,
  secret: string,
  templates: { headers: Record<string, string>; listHeaders: Record<string, string> },
): void {
  for (const [name, template] of Object.entries(templates.headers)) req.headers[name] = template.replace(/\{secret\}/g, secret);
  for (const [name, value] of Object.entries(templates.listHeaders)) {
    const sent = req.headers[name];
    const items = (Array.isArray(sent) ? sent.join(',') : String(sent ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
    if (!items.includes(value)) items.push(value);
    req.headers[name] = items.join(',');
  }
}

/** A value from the environment that goes into a header: one line, no NUL. */
export function headerSafe(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${name} contains a line break or NUL`);
  return value.trim();
}
