/**
 * Rows of a `promptscope batch` input file: JSONL (one object per line) or CSV with a header. Each row has a
 * prompt and optionally its own target (`target`, `contrast` = the foil compared against the target,
 * `label`, `force`). A row that cannot be read is kept as a failure with its reason, never dropped.
 */
import type { TargetSpec } from '../core/request';

export interface BatchRow {
  /** 0-based position among the file's rows (JSONL: non-blank lines; CSV: records after the header). */
  row: number;
  /** 1-based line of the file where the row starts. */
  line: number;
  prompt: string;
  /** The row's own target; absent: the command line's target. */
  target?: TargetSpec;
}

export interface BadRow {
  row: number;
  line: number;
  reason: string;
}

export interface BatchInput {
  rows: BatchRow[];
  bad: BadRow[];
  /** Number of rows in all (good and bad). */
  total: number;
}

export const FIELDS = ['prompt', 'target', 'contrast', 'label', 'force'] as const;

export function parseBatchInput(text: string, format: 'jsonl' | 'csv'): BatchInput {
  return format === 'csv' ? fromCsv(text) : fromJsonl(text);
}

/** CSV when the file name ends in .csv, JSONL otherwise. */
export function formatOf(file: string): 'jsonl' | 'csv' {
  return /\.csv$/i.test(file) ? 'csv' : 'jsonl';
}

function fromJsonl(text: string): BatchInput {
  const rows: BatchRow[] = [];
  const bad: BadRow[] = [];
  let row = 0;
  text.split('\n').forEach((raw, i) => {
    const lineText = raw.replace(/\r$/, '');
    if (lineText.trim() === '') return;
    const at = { row: row++, line: i + 1 };
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch {
      bad.push({ ...at, reason: 'not valid JSON: each line must be one JSON object such as {"prompt": "…"}' });
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      bad.push({ ...at, reason: 'not a JSON object: each line must look like {"prompt": "…"}' });
      return;
    }
    const fields: Record<string, string | undefined> = {};
    for (const f of FIELDS) {
      const v = (value as Record<string, unknown>)[f];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') {
        bad.push({ ...at, reason: `"${f}" must be a string (got ${typeof v})` });
        return;
      }
      fields[f] = v;
    }
    addRow(rows, bad, at, fields);
  });
  return { rows, bad, total: row };
}

function fromCsv(text: string): BatchInput {
  const records = csvRecords(text);
  const rows: BatchRow[] = [];
  const bad: BadRow[] = [];
  const header = records.shift();
  if (!header || !header.cells.map((c) => c.trim().toLowerCase()).includes('prompt')) {
    throw new BatchInputError('The CSV file needs a header row with a "prompt" column (and optionally target, contrast, label, force).');
  }
  const names = header.cells.map((c) => c.trim().toLowerCase());
  const unknown = names.filter((n) => n && !(FIELDS as readonly string[]).includes(n));
  if (unknown.length) throw new BatchInputError(`Unknown CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}: use ${FIELDS.join(', ')}.`);
  let row = 0;
  for (const rec of records) {
    if (rec.cells.length === 1 && rec.cells[0].trim() === '') continue;
    const at = { row: row++, line: rec.line };
    if (rec.cells.length > names.length) {
      bad.push({ ...at, reason: `${rec.cells.length} cells but the header names ${names.length} columns (quote cells that contain commas)` });
      continue;
    }
    const fields: Record<string, string | undefined> = {};
    names.forEach((n, c) => {
      const v = rec.cells[c];
      // An empty cell is an absent value (a CSV cannot tell them apart), except the prompt itself.
      if (v !== undefined && (v !== '' || n === 'prompt')) fields[n] = v;
    });
    addRow(rows, bad, at, fields);
  }
  return { rows, bad, total: row };
}

function addRow(rows: BatchRow[], bad: BadRow[], at: { row: number; line: number }, f: Record<string, string | undefined>): void {
  if (f.prompt === undefined) {
    bad.push({ ...at, reason: 'no "prompt" field' });
    return;
  }
  const given = (['target', 'label', 'force'] as const).filter((k) => f[k] !== undefined);
  if (given.length > 1 || (f.contrast !== undefined && (f.label !== undefined || f.force !== undefined))) {
    bad.push({ ...at, reason: 'give one target per row: target (optionally with contrast), label or force' });
    return;
  }
  let target: TargetSpec | undefined;
  if (f.contrast !== undefined) {
    if (f.target === undefined) {
      bad.push({ ...at, reason: '"contrast" is the foil compared against "target": give "target" too' });
      return;
    }
    // As on the command line: the foil takes the target's leading space when it has none of its own.
    const foil = f.contrast.startsWith(' ') || !f.target.startsWith(' ') ? f.contrast : ' ' + f.contrast;
    target = { kind: 'contrastive', text: f.target, foil };
  } else if (f.target !== undefined) target = { kind: 'token', text: f.target };
  else if (f.label !== undefined) target = { kind: 'class', label: f.label };
  else if (f.force !== undefined) target = { kind: 'forced', text: f.force };
  rows.push({ ...at, prompt: f.prompt, ...(target ? { target } : {}) });
}

export class BatchInputError extends Error {}

/** RFC 4180 records: quoted cells may hold commas, quotes ("") and line breaks. */
export function csvRecords(text: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = (): void => {
    cells.push(cell);
    out.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') { cells.push(cell); cell = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else cell += ch;
  }
  if (quoted) throw new BatchInputError(`The CSV file ends inside a quoted cell that starts on line ${start}: close the quote.`);
  if (cell !== '' || cells.length) endRecord();
  return out;
}
