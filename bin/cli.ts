/** A tiny command framework over node:util parseArgs: one definition gives parsing and --help. */
import { parseArgs } from 'node:util';
import { closestName } from '../jobs/suggest.js';
import { GridError } from '../proto/errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in --help. */
  default?: string;
  value?: string;
  description: string;
}

export interface Command {
  name: string;
  summary: string;
  /** Other names the command answers to (`watch` for `wait`). */
  aliases?: string[];
  usage: string;
  options: Record<string, OptionSpec>;
  /** Extra help text after the options. */
  notes?: string;
  /** What to say about an option some other command has (`status --wait`: use `swarmgrid wait ID`). */
  elsewhere?: Record<string, string>;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number | void>;
}

export function helpText(cmd: Command): string {
  const rows = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const dflt = o.default !== undefined ? ` (default: ${o.default})` : '';
    return `  ${flag.padEnd(34)} ${o.description}${dflt}`;
  });
  rows.push(`  ${'-h, --help'.padEnd(34)} show this help`);
  // A usage line that names only the main options says that there are more.
  const all = Object.keys(cmd.options).every((name) => new RegExp(`--${name}(?![\\w-])`).test(cmd.usage));
  const usage = all ? cmd.usage : `${cmd.usage} [options]`;
  return `swarmgrid ${cmd.name}: ${cmd.summary}\n\nUsage: ${usage}\n\nOptions:\n${rows.join('\n')}\n${cmd.notes ? `\n${cmd.notes}\n` : ''}`;
}

export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's own text ("Unknown option '--wait'. To specify a positional argument starting with a
    // '-', place it after '--' …") names neither the valid options nor the command that has it.
    const { message, hint } = optionError(cmd, argv, err as Error & { code?: string });
    process.stderr.write(`swarmgrid ${cmd.name}: GRID_ERR_INVALID_OPTION: ${message}\n${hint ? `  ${hint}\n` : ''}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  try {
    return (await cmd.run(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals)) ?? 0;
  } catch (err) {
    if (err instanceof GridError) {
      const hint = HINTS[err.code];
      process.stderr.write(`swarmgrid ${cmd.name}: ${err.code}: ${err.message}\n${hint ? `  ${hint}\n` : ''}`);
      return err.statusCode >= 500 ? 1 : 2;
    }
    throw err;
  }
}

/** The option a parseArgs error is about, and what to say: the valid options, the one probably meant. */
function optionError(cmd: Command, argv: string[], err: Error & { code?: string }): { message: string; hint?: string } {
  const names = [...Object.keys(cmd.options), 'help'];
  const valid = `${cmd.name} takes ${names.map((n) => `--${n}`).join(', ')}`;
  const shorts = new Map(Object.entries(cmd.options).filter(([, o]) => o.short).map(([n, o]) => [o.short!, n]));
  shorts.set('h', 'help');
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '--url <value>' argument missing" or "Option '--json' does not take an argument".
    const flag = /'(--?[^' <]+)/.exec(err.message)?.[1] ?? '';
    const name = flag.startsWith('--') ? flag.slice(2) : shorts.get(flag.slice(1)) ?? flag;
    const spec = cmd.options[name];
    if (spec?.type === 'string') return { message: `--${name} needs a value: --${name} ${spec.value ?? 'VALUE'}` };
    return { message: `--${name} takes no value (it is a switch: give --${name} alone)` };
  }
  // Unknown: the first argument before a `--` that is no declared option.
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0]!;
      if (name in cmd.options || name === 'help') {
        if (cmd.options[name]?.type === 'string' && !arg.includes('=')) i++; // its value
        continue;
      }
      const close = closestName(name, names);
      return {
        message: `unknown option --${name}${close ? ` (did you mean --${close}?)` : ''}; ${valid}`,
        hint: cmd.elsewhere?.[name] ?? `see: swarmgrid ${cmd.name} --help`,
      };
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (const [j, c] of [...arg.slice(1)].entries()) {
        if (!shorts.has(c)) return { message: `unknown option -${c}; ${valid}`, hint: `see: swarmgrid ${cmd.name} --help` };
        if (cmd.options[shorts.get(c)!]?.type === 'string') {
          if (j === arg.length - 2) i++; // `-o FILE`; `-oFILE` holds its value
          break;
        }
      }
    }
  }
  return { message: `${err.message}; ${valid}`, hint: `see: swarmgrid ${cmd.name} --help` };
}

/** What to do about an error the coordinator answered with, where the message cannot say it. */
const HINTS: Record<string, string> = {
  GRID_ERR_UNAUTHORIZED: "pass --token TOKEN or set SWARMGRID_TOKEN; the coordinator's operator makes one with: swarmgrid token create --data DIR",
};

export function usageError(message: string): GridError {
  return new GridError('GRID_ERR_INVALID_OPTION', message, 400);
}

export function intOption(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Resolves once SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
