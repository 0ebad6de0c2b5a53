// The `gh` the agent finds first on PATH inside the jail. It understands the commands agents are told
// to use (issue/pr comment, issue/pr edit --add-label/--remove-label, pr review, pr create, issue/pr
// view, pr diff, label list, api, auth status) and turns each into a REST call to the guard's bridge
// (GITHUB_API_URL), where the one policy check decides. It holds no token and needs none; anything
// else gets one line on stderr and exit 1, so allowed-tool lists like `Bash(gh issue edit:*)` keep
// working unchanged.
//
// The guard writes ghShimMain's source into its private folder (bound read-only into the jail), so
// it must be self-contained: no imports, only require() of node built-ins inside the function.

export function ghShimMain(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const http = require('node:http') as typeof import('node:http');
  const fs = require('node:fs') as typeof import('node:fs');
  const childProcess = require('node:child_process') as typeof import('node:child_process');
  type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

  const SUPPORTED =
    'issue comment, issue edit --add-label/--remove-label, issue view, pr comment, pr edit --add-label/--remove-label, ' +
    'pr review, pr create, pr view, pr diff, label list, api, auth status';
  const die = (message: string, code = 1): never => {
    process.stderr.write(`gh (agent-guard): ${message}\n`);
    process.exit(code);
  };
  const base = process.env.GITHUB_API_URL ?? '';
  if (!/^http:\/\/127\.0\.0\.1:[0-9]+$/.test(base)) die('GITHUB_API_URL does not point at the agent-guard bridge');

  interface Parsed {
    positional: string[];
    flags: Map<string, string[]>;
  }
  // Flags that take no value; every other flag takes one (`--flag value` or `--flag=value`).
  const BOOLEAN = new Set(['--approve', '--request-changes', '--comment', '-c', '-a', '-r', '--draft', '-d', '--comments', '--edit-last', '--name-only', '--paginate', '--silent', '--include', '-i', '--fill', '--web', '-w', '--patch']);
  const ALIASES: Record<string, string> = { '-b': '--body', '-F': '--body-file', '-R': '--repo', '-t': '--title', '-q': '--jq', '-X': '--method', '-H': '--header', '-L': '--limit', '-B': '--base', '-c': '--comment', '-a': '--approve', '-r': '--request-changes', '-d': '--draft' };
  const parse = (args: string[], apiFields = false): Parsed => {
    const out: Parsed = { positional: [], flags: new Map() };
    const add = (k: string, v: string) => out.flags.set(k, [...(out.flags.get(k) ?? []), v]);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--') {
        out.positional.push(...args.slice(i + 1));
        break;
      }
      if (!a.startsWith('-') || a === '-') {
        out.positional.push(a);
        continue;
      }
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      let flag = eq > 0 ? a.slice(0, eq) : a;
      // In `gh api`, -f and -F are fields, not --body-file.
      if (apiFields && (flag === '-f' || flag === '--raw-field')) flag = '--raw-field';
      else if (apiFields && (flag === '-F' || flag === '--field')) flag = '--field';
      else flag = ALIASES[flag] ?? flag;
      if (BOOLEAN.has(flag) || BOOLEAN.has(a)) {
        add(flag, 'true');
        continue;
      }
      if (eq > 0) add(flag, a.slice(eq + 1));
      else if (i + 1 < args.length) add(flag, args[++i]);
      else die(`${a} needs a value`);
    }
    return out;
  };
  const one = (p: Parsed, flag: string): string | undefined => p.flags.get(flag)?.slice(-1)[0];
  const many = (p: Parsed, flag: string): string[] => (p.flags.get(flag) ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const only = (p: Parsed, allowed: string[], what: string) => {
    for (const f of p.flags.keys()) if (!allowed.includes(f)) die(`${what} ${f} is not available under agent-guard (the guard grants only what the workflow allows)`);
  };

  const repoOf = (p: Parsed): string => {
    const r = one(p, '--repo') ?? process.env.GH_REPO ?? process.env.GITHUB_REPOSITORY ?? '';
    const m = /^(?:https?:\/\/[^/]+\/)?([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/.exec(r);
    if (!m) die('no repository: pass -R OWNER/REPO');
    return `${encodeURIComponent(m![1])}/${encodeURIComponent(m![2])}`;
  };
  const numberOf = (p: Parsed, what: string): { repo: string; number: string } => {
    const arg = p.positional[0] ?? process.env.AGENT_GUARD_ISSUE;
    if (!arg) die(`${what} needs an issue or pull request number`);
    const url = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/(?:issues|pull)\/([0-9]+)/.exec(arg!);
    if (url) return { repo: `${encodeURIComponent(url[1])}/${encodeURIComponent(url[2])}`, number: url[3] };
    const n = /^#?([0-9]+)$/.exec(arg!);
    if (!n) die(`"${arg}" is not an issue or pull request number`);
    return { repo: repoOf(p), number: n![1] };
  };

  const request = (method: string, path: string, body?: unknown, accept?: string, rawBody?: Buffer): Promise<{ status: number; text: string; json: Json }> =>
    new Promise((resolve) => {
      const payload = rawBody ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
      const req = http.request(
        `${base}${path.startsWith('/') ? '' : '/'}${path}`,
        {
          method,
          headers: {
            accept: accept ?? 'application/vnd.github+json',
            'user-agent': 'gh (agent-guard)',
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let json: Json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, text, json });
          });
        },
      );
      req.on('error', (err) => die(`cannot reach the agent-guard bridge: ${err.message}`));
      req.end(payload);
    });
  const ok = async (method: string, path: string, body?: unknown, accept?: string) => {
    const res = await request(method, path, body, accept);
    if (res.status < 200 || res.status >= 300) die(`${res.json?.message ?? `HTTP ${res.status}`} (HTTP ${res.status})`);
    return res;
  };

  const readBodyFlag = (p: Parsed, required: boolean): string | undefined => {
    const file = one(p, '--body-file');
    if (file !== undefined) {
      try {
        return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (err) {
        return die(`cannot read ${file}: ${(err as Error).message}`);
      }
    }
    const body = one(p, '--body');
    if (body === undefined && required) die('a body is needed: --body TEXT or --body-file FILE');
    return body;
  };

  const jq = (data: unknown, expr: string): string => {
    const found = ['/usr/bin/jq', '/usr/local/bin/jq', '/bin/jq'].find((f) => fs.existsSync(f));
    if (!found) die('--jq needs jq installed on the runner');
    const r = childProcess.spawnSync(found!, ['-r', expr], { input: JSON.stringify(data), encoding: 'utf8' });
    if (r.status !== 0) die(`--jq: ${(r.stderr || '').trim()}`);
    return r.stdout;
  };
  const printJson = (p: Parsed, data: Json) => {
    const fields = many(p, '--json');
    let out = data;
    if (fields.length && data && typeof data === 'object') {
      const pick = (o: Json) => Object.fromEntries(fields.map((f) => [f, o[f] ?? null]));
      out = Array.isArray(data) ? data.map(pick) : pick(data);
    }
    const expr = one(p, '--jq');
    process.stdout.write(expr ? jq(out, expr) : JSON.stringify(out, null, 2) + '\n');
  };

  const ghIssue = async (repo: string, number: string, p: Parsed, isPr: boolean): Promise<Json> => {
    const i = (await ok('GET', `/repos/${repo}/issues/${number}`)).json;
    const fields = many(p, '--json');
    const wantComments = p.flags.has('--comments') || fields.includes('comments');
    const comments = wantComments ? (await ok('GET', `/repos/${repo}/issues/${number}/comments?per_page=100`)).json : [];
    const out: Json = {
      number: i.number,
      title: i.title,
      body: i.body ?? '',
      state: String(i.state ?? '').toUpperCase(),
      author: { login: i.user?.login },
      labels: (i.labels ?? []).map((l: Json) => ({ name: l.name, description: l.description ?? '', color: l.color })),
      assignees: (i.assignees ?? []).map((a: Json) => ({ login: a.login })),
      milestone: i.milestone ? { title: i.milestone.title } : null,
      url: i.html_url,
      createdAt: i.created_at,
      updatedAt: i.updated_at,
      closedAt: i.closed_at ?? null,
      comments: comments.map((c: Json) => ({ id: c.node_id, author: { login: c.user?.login }, body: c.body, createdAt: c.created_at, url: c.html_url })),
    };
    if (isPr) {
      const pr = (await ok('GET', `/repos/${repo}/pulls/${number}`)).json;
      Object.assign(out, {
        headRefName: pr.head?.ref,
        headRefOid: pr.head?.sha,
        baseRefName: pr.base?.ref,
        isDraft: !!pr.draft,
        additions: pr.additions,
        deletions: pr.deletions,
        changedFiles: pr.changed_files,
        mergeable: pr.mergeable === true ? 'MERGEABLE' : pr.mergeable === false ? 'CONFLICTING' : 'UNKNOWN',
      });
      if (fields.includes('files')) {
        out.files = (await ok('GET', `/repos/${repo}/pulls/${number}/files?per_page=100`)).json.map((f: Json) => ({ path: f.filename, additions: f.additions, deletions: f.deletions }));
      }
    }
    return out;
  };

  const view = async (p: Parsed, isPr: boolean) => {
    only(p, ['--json', '--jq', '--comments', '--repo'], `gh ${isPr ? 'pr' : 'issue'} view`);
    const { repo, number } = numberOf(p, 'view');
    const data = await ghIssue(repo, number, p, isPr);
    if (p.flags.has('--json')) return printJson(p, data);
    const lines = [
      `title:\t${data.title}`,
      `state:\t${data.state}`,
      `author:\t${data.author.login ?? ''}`,
      `labels:\t${data.labels.map((l: Json) => l.name).join(', ')}`,
      `number:\t${data.number}`,
      `url:\t${data.url}`,
      '--',
      data.body,
    ];
    for (const c of p.flags.has('--comments') ? data.comments : []) lines.push('--', `author:\t${c.author.login ?? ''}`, '--', c.body);
    process.stdout.write(lines.join('\n') + '\n');
  };

  const stateFile = (repo: string, number: string) => `${process.env.HOME ?? '/tmp'}/.cache/agent-guard-gh/last-comment-${repo.replace(/\//g, '_')}-${number}`;
  const comment = async (p: Parsed) => {
    only(p, ['--body', '--body-file', '--repo', '--edit-last'], 'gh comment');
    const { repo, number } = numberOf(p, 'comment');
    const body = readBodyFlag(p, true);
    if (p.flags.has('--edit-last')) {
      let id = '';
      try {
        id = fs.readFileSync(stateFile(repo, number), 'utf8').trim();
      } catch {
        die('no earlier comment of yours to edit in this run');
      }
      const res = await ok('PATCH', `/repos/${repo}/issues/comments/${id}`, { body });
      process.stdout.write(`${res.json?.html_url ?? ''}\n`);
      return;
    }
    const res = await ok('POST', `/repos/${repo}/issues/${number}/comments`, { body });
    try {
      fs.mkdirSync(stateFile(repo, number).replace(/\/[^/]*$/, ''), { recursive: true });
      fs.writeFileSync(stateFile(repo, number), String(res.json?.id ?? ''));
    } catch {
      // --edit-last is a convenience
    }
    process.stdout.write(`${res.json?.html_url ?? ''}\n`);
  };

  const edit = async (p: Parsed) => {
    only(p, ['--add-label', '--remove-label', '--repo'], 'gh edit');
    const { repo, number } = numberOf(p, 'edit');
    const add = many(p, '--add-label');
    const remove = many(p, '--remove-label');
    if (!add.length && !remove.length) die('nothing to edit: --add-label or --remove-label');
    if (add.length) await ok('POST', `/repos/${repo}/issues/${number}/labels`, { labels: add });
    for (const label of remove) await ok('DELETE', `/repos/${repo}/issues/${number}/labels/${encodeURIComponent(label)}`);
    process.stdout.write(`https://github.com/${decodeURIComponent(repo)}/issues/${number}\n`);
  };

  const review = async (p: Parsed) => {
    only(p, ['--approve', '--request-changes', '--comment', '--body', '--body-file', '--repo'], 'gh pr review');
    const { repo, number } = numberOf(p, 'review');
    const event = p.flags.has('--approve') ? 'APPROVE' : p.flags.has('--request-changes') ? 'REQUEST_CHANGES' : p.flags.has('--comment') ? 'COMMENT' : die('--approve, --request-changes or --comment is needed');
    const body = readBodyFlag(p, event !== 'APPROVE') ?? '';
    await ok('POST', `/repos/${repo}/pulls/${number}/reviews`, { event, body });
    process.stdout.write(`- Reviewed pull request #${number}\n`);
  };

  const create = async (p: Parsed) => {
    only(p, ['--title', '--body', '--body-file', '--draft', '--base', '--head', '--repo', '--fill'], 'gh pr create');
    const title = one(p, '--title') ?? die('--title is needed');
    const res = await ok('POST', `/repos/${repoOf(p)}/pulls`, { title, body: readBodyFlag(p, false) ?? '', draft: p.flags.has('--draft') });
    process.stdout.write(`${res.json?.message ?? 'pull request requested'}\n`);
  };

  const labelList = async (p: Parsed) => {
    only(p, ['--json', '--jq', '--limit', '--repo', '--search'], 'gh label list');
    const labels = (await ok('GET', `/repos/${repoOf(p)}/labels?per_page=100`)).json as Json[];
    const search = one(p, '--search')?.toLowerCase();
    const limit = Number(one(p, '--limit') ?? '30');
    const data = labels
      .filter((l) => !search || String(l.name).toLowerCase().includes(search))
      .slice(0, limit)
      .map((l) => ({ name: l.name, description: l.description ?? '', color: l.color, isDefault: !!l.default, id: l.node_id, url: l.url }));
    if (p.flags.has('--json')) return printJson(p, data);
    process.stdout.write(data.map((l) => `${l.name}\t${l.description}\t#${l.color}`).join('\n') + (data.length ? '\n' : ''));
  };

  const diff = async (p: Parsed) => {
    only(p, ['--name-only', '--repo', '--patch'], 'gh pr diff');
    const { repo, number } = numberOf(p, 'diff');
    if (p.flags.has('--name-only')) {
      const files = (await ok('GET', `/repos/${repo}/pulls/${number}/files?per_page=100`)).json as Json[];
      process.stdout.write(files.map((f) => `${f.filename}\n`).join(''));
      return;
    }
    process.stdout.write((await ok('GET', `/repos/${repo}/pulls/${number}`, undefined, 'application/vnd.github.v3.diff')).text);
  };

  const typedValue = (v: string): unknown => {
    if (v === 'true') return true;
    if (v === 'false') return false;
    if (v === 'null') return null;
    if (/^-?[0-9]+$/.test(v)) return Number(v);
    if (v.startsWith('@')) return fs.readFileSync(v.slice(1) === '-' ? 0 : v.slice(1), 'utf8');
    return v;
  };
  const api = async (p: Parsed) => {
    only(p, ['--method', '--raw-field', '--field', '--input', '--header', '--jq', '--paginate', '--silent', '--include'], 'gh api');
    let endpoint = p.positional[0] ?? die('gh api needs an endpoint');
    const [owner, repo] = decodeURIComponent(repoOf(p)).split('/');
    endpoint = endpoint.replace(/\{owner\}/g, owner).replace(/\{repo\}/g, repo);
    const fields: Record<string, unknown> = {};
    const set = (kv: string, typed: boolean) => {
      const at = kv.indexOf('=');
      if (at < 1) die(`field "${kv}" is not key=value`);
      const key = kv.slice(0, at);
      const value = typed ? typedValue(kv.slice(at + 1)) : kv.slice(at + 1);
      if (key.endsWith('[]')) fields[key.slice(0, -2)] = [...((fields[key.slice(0, -2)] as unknown[]) ?? []), value];
      else fields[key] = value;
    };
    for (const kv of p.flags.get('--raw-field') ?? []) set(kv, false);
    for (const kv of p.flags.get('--field') ?? []) set(kv, true);
    const input = one(p, '--input');
    const hasBody = input !== undefined || Object.keys(fields).length > 0;
    const method = (one(p, '--method') ?? (hasBody ? 'POST' : 'GET')).toUpperCase();
    let path = endpoint === 'graphql' ? '/graphql' : `/${endpoint.replace(/^\//, '')}`;
    let body: unknown;
    if (method === 'GET' && Object.keys(fields).length) path += (path.includes('?') ? '&' : '?') + new URLSearchParams(fields as Record<string, string>).toString();
    else if (endpoint === 'graphql') {
      const { query, ...variables } = fields;
      body = { query, variables };
    } else if (hasBody) body = fields;
    const accept = p.flags.get('--header')?.find((h) => /^accept:/i.test(h))?.replace(/^accept:\s*/i, '');
    const rawBody = input !== undefined ? fs.readFileSync(input === '-' ? 0 : input) : undefined;
    const res = await request(method, path, body, accept, rawBody);
    if (res.status >= 300) {
      process.stdout.write(res.text.endsWith('\n') || !res.text ? res.text : `${res.text}\n`);
      die(`${res.json?.message ?? 'request failed'} (HTTP ${res.status})`);
    }
    if (p.flags.has('--silent')) return;
    const expr = one(p, '--jq');
    process.stdout.write(expr ? jq(res.json, expr) : res.text.endsWith('\n') || !res.text ? res.text : `${res.text}\n`);
  };

  const main = async () => {
    const [group, command, ...rest] = process.argv.slice(2);
    const isPr = group === 'pr';
    const key = `${group ?? ''} ${command ?? ''}`.trim();
    if (group === '--version' || group === 'version') return void process.stdout.write('gh version 2 (agent-guard shim)\n');
    if (key === 'auth status' || key === 'auth token') {
      if (command === 'token') die('the token is held by agent-guard outside the jail');
      return void process.stderr.write('github.com\n  ✓ Logged in through agent-guard (the guard holds the token and checks every request against its grants)\n');
    }
    switch (key) {
      case 'issue comment':
      case 'pr comment':
        return comment(parse(rest));
      case 'issue edit':
      case 'pr edit':
        return edit(parse(rest));
      case 'issue view':
      case 'pr view':
        return view(parse(rest), isPr);
      case 'pr review':
        return review(parse(rest));
      case 'pr create':
        return create(parse(rest));
      case 'pr diff':
        return diff(parse(rest));
      case 'label list':
        return labelList(parse(rest));
      default:
        if (group === 'api') return api(parse([command, ...rest].filter((a) => a !== undefined), true));
        die(`\`gh ${key.replace(/[^\x20-\x7e]/g, '?').slice(0, 60)}\` is not available under agent-guard; available: ${SUPPORTED}`);
    }
  };
  main().catch((err: Error) => die(err.message));
}

export function ghShimSource(node: string): string {
  return `#!${node}\n(${ghShimMain.toString()})();\n`;
}
