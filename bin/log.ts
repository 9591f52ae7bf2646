/**
 * Console output for the CLI: human lines on a terminal, one JSON object per line with --json
 * (or when stdout is not a TTY and SWARMGRID_LOG=json).
 */
export type LogFn = (event: string, fields?: Record<string, unknown>) => void;

export function createLog(opts: { json: boolean; quiet?: boolean; prefix?: string }): LogFn {
  return (event, fields = {}) => {
    if (opts.quiet) return;
    if (opts.json) {
      process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + '\n');
      return;
    }
    const detail = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    process.stdout.write(`${opts.prefix ?? ''}${event}${detail ? ' ' + detail : ''}\n`);
  };
}
