/**
 * SVG heatmap of one attribution row: the prompt as tinted token boxes, a legend, and — for multi-token
 * targets — a source × target matrix. A pure function of a result; every piece of text in it is user or
 * model data and is escaped (and stripped of characters XML cannot carry).
 */
import { aggregateScores, type Group } from '../aggregation';
import { maxAbsOf, scoreRgba, SCALE_ENDS } from '../colourScale';
import type { Granularity } from '../request';
import type { AttributionResult, MethodRun } from '../result';
import { showMarks, viewGroups } from '../viewUnits';

export interface SvgOptions {
  /** Method of the run to draw (default: the first run). */
  method?: string;
  /** Target row to draw (default 0). */
  row?: number;
  granularity?: Granularity;
  /** Total width in px (default 800). */
  width?: number;
  fontSize?: number;
  /** Colour the row against its own maximum instead of one scale for all target rows. */
  rowScale?: 'shared' | 'per-row';
  /** Draw the source × target matrix when there are several target rows (default true). */
  matrix?: boolean;
}

/** Escape text for XML content and attribute values; drop characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Token text with whitespace made visible (the SVG has no other way to show it). */
function visible(text: string): string {
  return showMarks(text).replace(/\r?\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·');
}

/** Width of text in em for a monospace font; wide (CJK, emoji) characters count double. */
function emWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 1.2 : 0.6;
  return w;
}

const fmt = (x: number) => (x >= 0 ? '+' : '−') + Math.abs(x).toPrecision(3);

export function toSvg(result: AttributionResult, opts: SvgOptions = {}): string {
  const width = opts.width ?? 800;
  const fs = opts.fontSize ?? 14;
  const pad = 12;
  const lineH = Math.round(fs * 1.9);
  const run: MethodRun | undefined = result.runs.find((r) => r.method === opts.method) ?? result.runs[0];
  const rowCount = result.target.rows.length;
  const row = Math.min(Math.max(opts.row ?? 0, 0), Math.max(rowCount - 1, 0));
  const groups: Group[] = viewGroups(result.input.text, result.input.tokens, opts.granularity ?? 'token');
  const matrix = run ? run.scores.map((s) => aggregateScores(s, groups, 'sum')) : [];
  const scores = matrix[row] ?? groups.map(() => 0);
  const maxAbs = opts.rowScale === 'per-row' ? maxAbsOf(scores) : maxAbsOf(matrix.flat());
  const out: string[] = [];

  const targetRow = result.target.rows[row];
  const heading = `${result.model.id} · ${run?.method ?? 'no method'} · target: ${targetRow ? JSON.stringify(targetRow.text) : '—'}` +
    (targetRow?.foilText !== undefined ? ` vs ${JSON.stringify(targetRow.foilText)}` : '');
  let y = pad + fs;
  out.push(`<text x="${pad}" y="${y}" class="h">${escapeXml(heading)}</text>`);
  y += Math.round(fs * 0.6);

  // Prompt heatmap, wrapped to the width; newline tokens end a line.
  let x = pad;
  let top = y + 4;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    // Text between units (spaces a WordPiece tokenizer drops) is drawn as the advance it takes.
    const gap = i > 0 ? result.input.text.slice(groups[i - 1].end, g.start) : '';
    if (/\n/.test(gap)) {
      x = pad;
      top += lineH;
    } else if (gap) {
      x += Math.ceil(emWidth(gap) * fs);
    }
    const shown = visible(g.text);
    const w = Math.max(Math.ceil(emWidth(shown) * fs) + 6, 8);
    if (x + w > width - pad && x > pad) {
      x = pad;
      top += lineH;
    }
    const fill = scoreRgba(scores[i], maxAbs);
    out.push(
      `<g><title>${escapeXml(`${JSON.stringify(g.text)} ${fmt(scores[i])}`)}</title>` +
        `<rect x="${x}" y="${top}" width="${w}" height="${lineH - 4}" rx="3" fill="${fill}"/>` +
        `<text x="${x + 3}" y="${top + Math.round(lineH * 0.68)}" class="t">${escapeXml(shown)}</text></g>`,
    );
    x += w + 2;
    if (/\n$/.test(g.text)) {
      x = pad;
      top += lineH;
    }
  }
  y = top + lineH + 8;

  // Legend: the scale's two ends and what they mean.
  const neg = SCALE_ENDS.neg;
  const pos = SCALE_ENDS.pos;
  out.push(
    `<rect x="${pad}" y="${y}" width="14" height="14" fill="rgb(${neg.r},${neg.g},${neg.b})"/>` +
      `<text x="${pad + 20}" y="${y + 12}" class="l">lowers the target (−${escapeXml(maxAbs.toPrecision(3))})</text>` +
      `<rect x="${pad + 240}" y="${y}" width="14" height="14" fill="rgb(${pos.r},${pos.g},${pos.b})"/>` +
      `<text x="${pad + 260}" y="${y + 12}" class="l">raises the target (+${escapeXml(maxAbs.toPrecision(3))})</text>`,
  );
  y += 30;
  if (run) {
    out.push(`<text x="${pad}" y="${y}" class="l">${escapeXml(run.meaning)}</text>`);
    y += 20;
  }

  // Source × target matrix: one row per target token, one cell per source group, one scale for all.
  if ((opts.matrix ?? true) && rowCount > 1 && matrix.length > 0) {
    const mMax = maxAbsOf(matrix.flat());
    const labelW = Math.min(160, Math.ceil(Math.max(...result.target.rows.map((r) => emWidth(visible(r.text)))) * fs) + 8);
    const cell = Math.max(4, Math.min(18, Math.floor((width - 2 * pad - labelW) / Math.max(groups.length, 1))));
    out.push(`<text x="${pad}" y="${y + fs}" class="l">source × target (rows: target tokens; columns: prompt ${escapeXml(opts.granularity ?? 'token')}s)</text>`);
    y += fs + 8;
    matrix.forEach((cells, r) => {
      out.push(`<text x="${pad}" y="${y + cell - 4}" class="t">${escapeXml(visible(result.target.rows[r].text))}</text>`);
      cells.forEach((s, c) => {
        out.push(
          `<rect x="${pad + labelW + c * cell}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${scoreRgba(s, mMax)}">` +
            `<title>${escapeXml(`${JSON.stringify(result.target.rows[r].text)} ← ${JSON.stringify(groups[c].text)} ${fmt(s)}`)}</title></rect>`,
        );
      });
      y += cell;
    });
    y += 8;
  }

  const height = y + pad;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">\n` +
    `<title>${escapeXml(`Promptscope attribution heatmap: ${heading}`)}</title>\n` +
    `<style>text{font-family:ui-monospace,Menlo,Consolas,monospace;fill:#1f1f1f;white-space:pre}.h{font-size:${fs}px;font-weight:600}` +
    `.t{font-size:${fs}px}.l{font-size:${Math.round(fs * 0.8)}px;fill:#555}</style>\n` +
    `<rect width="100%" height="100%" fill="#ffffff"/>\n` +
    out.join('\n') +
    `\n</svg>\n`
  );
}
