/** Sanitizing output text before comparison: user regex replacements (nbval's --sanitize-with) and lines to ignore. */
import { readFileSync } from 'node:fs';

/** One replacement: every match of `regex` (global) becomes `replace` (JS replacement syntax). */
export interface SanitizeRule {
  regex: RegExp;
  replace: string;
  /** Where the rule came from, for messages (e.g. the INI section name). */
  name?: string;
}

/** A named pattern: output lines matching it are left out of comparisons. */
export interface IgnoreLine {
  name: string;
  pattern: RegExp;
}

/**
 * Lines whose content changes from run to run by nature: durations, progress bars, JS stack
 * frames (paths and line numbers differ between machines).
 */
export const DEFAULT_IGNORE_LINES: IgnoreLine[] = [
  { name: 'timing', pattern: /\d+(\.\d+)?\s*(ms|µs|μs|us|ns|s|sec|secs|seconds?|min|mins|minutes?)\b/ },
  { name: 'eta', pattern: /\beta\s*[=:]\s*\d/i },
  { name: 'progress-percent', pattern: /\d+(\.\d+)?%\s*\|/ },
  { name: 'progress-bar', pattern: /[█▉▊▋▌▍▎▏━─■]{3,}|\[[=>#.\- ]{5,}\]|={5,}>|#{10,}/ },
  { name: 'stack-frame', pattern: /^\s+at\s+\S/ },
];

/** Converts a Python `re` pattern to a global JS RegExp (named groups, backreferences, leading inline flags). */
export function pythonRegex(pattern: string): RegExp {
  let flags = 'g';
  let body = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    for (const f of inline[1]) if ((f === 'i' || f === 'm' || f === 's') && !flags.includes(f)) flags += f;
  }
  body = body
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  return new RegExp(body, flags);
}

/** Converts a Python `re.sub` replacement (`\1`, `\g<name>`, literal `$`) to JS replacement syntax. */
export function pythonReplacement(replacement: string): string {
  return replacement
    .replace(/\$/g, '$$$$')
    .replace(/\\g<(\d+)>/g, '$$$1')
    .replace(/\\g<([A-Za-z_]\w*)>/g, '$$<$1>')
    .replace(/\\(\d{1,2})/g, '$$$1')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\\\/g, '\\');
}

function rule(regex: string, replace: string, name: string, where: string): SanitizeRule {
  try {
    return { regex: pythonRegex(regex), replace: pythonReplacement(replace), name };
  } catch (error) {
    throw new Error(`${where}: rule ${name}: invalid regex ${JSON.stringify(regex)}: ${(error as Error).message}`);
  }
}

function parseIni(text: string, where: string): SanitizeRule[] {
  const rules: SanitizeRule[] = [];
  let section: string | undefined;
  let fields: Record<string, string> = {};
  let lastKey: string | undefined;
  const flush = () => {
    if (section === undefined) return;
    if (fields.regex === undefined) throw new Error(`${where}: section [${section}] has no "regex:" line`);
    rules.push(rule(fields.regex, fields.replace ?? '', section, where));
  };
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || !raw.trim()) continue;
    const header = /^\s*\[(.+)\]\s*$/.exec(raw);
    if (header) {
      flush();
      section = header[1];
      fields = {};
      lastKey = undefined;
      continue;
    }
    // configparser: an indented line continues the previous value.
    if (/^\s/.test(raw) && lastKey) {
      fields[lastKey] += `\n${raw.trim()}`;
      continue;
    }
    const kv = /^\s*([^:=]+?)\s*[:=]\s?(.*)$/.exec(raw);
    if (!kv || section === undefined) throw new Error(`${where}: cannot read line ${JSON.stringify(raw)} (expected [section], regex: ..., replace: ...)`);
    lastKey = kv[1].toLowerCase();
    fields[lastKey] = kv[2];
  }
  flush();
  return rules;
}

/**
 * Parses a sanitize config. JSON: `{"pattern": "replacement", ...}` or `[{"regex": ..., "replace": ...}]`
 * (also under a top-level "rules" key). Otherwise nbval's INI form: `[name]` then `regex:` and `replace:` lines.
 */
export function parseSanitizeConfig(text: string, where = 'sanitize config'): SanitizeRule[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[{') || trimmed === '[]') {
    let json: any;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`${where}: looks like JSON but is not valid (${(error as Error).message})`);
    }
    const list = Array.isArray(json) ? json : Array.isArray(json.rules) ? json.rules : undefined;
    if (list) {
      return list.map((entry: any, i: number) => {
        if (typeof entry?.regex !== 'string') throw new Error(`${where}: rule ${i} needs a string "regex"`);
        return rule(entry.regex, String(entry.replace ?? ''), entry.name ?? `rule ${i}`, where);
      });
    }
    return Object.entries(json).map(([regex, replace]) => rule(regex, String(replace ?? ''), regex, where));
  }
  return parseIni(text, where);
}

/** Reads a sanitize config file (JSON or INI); errors name the file. */
export function loadSanitizeFile(path: string): SanitizeRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read the sanitize file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseSanitizeConfig(text, path);
}

/** Applies terminal semantics: text before a carriage return on the same line is overwritten, backspace erases. */
export function applyTerminalControls(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let out = line.replace(/\r+$/, '');
      const cr = out.lastIndexOf('\r');
      if (cr >= 0) out = out.slice(cr + 1);
      while (/[^\x08]\x08/.test(out)) out = out.replace(/[^\x08]\x08/, '');
      return out.replace(/\x08/g, '');
    })
    .join('\n');
}

/** What to do to text before comparing it. */
export interface SanitizeOptions {
  rules?: SanitizeRule[];
  /** Lines to drop; default DEFAULT_IGNORE_LINES. Pass [] to compare every line. */
  ignoreLines?: IgnoreLine[];
}

/** The comparable lines of `text`: terminal controls applied, rules applied, ignored and trailing blank lines removed. */
export function sanitizeLines(text: string, options: SanitizeOptions = {}): string[] {
  let out = applyTerminalControls(text);
  for (const r of options.rules ?? []) out = out.replace(r.regex, r.replace);
  const ignore = options.ignoreLines ?? DEFAULT_IGNORE_LINES;
  const lines = out
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => !ignore.some((i) => i.pattern.test(l)));
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  while (lines.length && !lines[0]) lines.shift();
  return lines;
}
