/**
 * `npm run sim -- ctl <control-url> <command> [key=value …]`: the control API from a shell.
 *
 *   state                          GET  {control}/state
 *   fault <name> [k=v …]           POST {control}/faults/<name>   e.g. fault reboot downSeconds=5
 *   event <motion|tamper> [k=v …]  POST {control}/events/<name>   e.g. event motion state=false
 *   clear                          DELETE {control}/faults
 */
export async function runControlCommand(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const [url, command, ...rest] = argv;
  if (!url || !command || !/^https?:\/\//.test(url)) {
    out('usage: sim ctl <control-url> state | fault <name> [key=value …] | event <motion|tamper> [key=value …] | clear');
    return 2;
  }
  const base = url.replace(/\/$/, '');
  let method = 'GET';
  let path = '/state';
  let body: Record<string, unknown> | undefined;
  switch (command) {
    case 'state':
      break;
    case 'clear':
      method = 'DELETE';
      path = '/faults';
      break;
    case 'fault':
    case 'event': {
      const [name, ...pairs] = rest;
      if (!name) {
        out(`ERR: ${command} needs a name`);
        return 2;
      }
      method = 'POST';
      path = `/${command === 'fault' ? 'faults' : 'events'}/${encodeURIComponent(name)}`;
      try {
        body = parsePairs(pairs);
      } catch (err) {
        out(`ERR: ${(err as Error).message}`);
        return 2;
      }
      break;
    }
    default:
      out(`ERR: unknown command ${command}`);
      return 2;
  }
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    out(`ERR: ${base} unreachable: ${(err as Error).message}`);
    return 1;
  }
  const text = (await res.text()).trim();
  out(text);
  return res.ok ? 0 : 1;
}

/** `key=value` pairs into a JSON object; numbers and booleans are typed. */
export function parsePairs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`expected key=value, got "${p}"`);
    const key = p.slice(0, i);
    const raw = p.slice(i + 1);
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
