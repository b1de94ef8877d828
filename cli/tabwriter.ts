// A port of Go's text/tabwriter (the subset kubectl uses: left-aligned, space padding), so
// that `get` tables and `describe` sections line up exactly as kubectl's do. Cells are
// tab-terminated; the text after a line's last tab is not aligned. A column block is a run
// of consecutive lines that all have a cell in that column, as in Go.

export interface TabWriterOptions {
  minWidth: number;
  padding: number;
  /** Keep column widths across flushes (Go's RememberWidths, used by `get -w`). */
  rememberWidths?: boolean;
}

/** kubectl's printers (cli-runtime printers.GetNewTabWriter): minwidth 6, padding 3. */
export const GET_TABWRITER: TabWriterOptions = { minWidth: 6, padding: 3, rememberWidths: true };
/** kubectl describe's tabbedString: minwidth 0, padding 2. */
export const DESCRIBE_TABWRITER: TabWriterOptions = { minWidth: 0, padding: 2 };

function textWidth(s: string): number {
  return [...s].length;
}

export class TabWriter {
  private lines: string[][] = [[]];
  private pending = "";
  private readonly remembered: number[] = [];

  constructor(private readonly opts: TabWriterOptions) {}

  write(text: string): void {
    this.pending += text;
  }

  /** Formats everything written so far and returns it. */
  flush(): string {
    const text = this.pending;
    this.pending = "";
    if (text === "") return "";
    const rawLines = text.split("\n");
    const endsWithNewline = rawLines[rawLines.length - 1] === "";
    if (endsWithNewline) rawLines.pop();
    this.lines = rawLines.map((l) => l.split("\t"));
    const out: string[] = [];
    this.format(out, [], 0, this.lines.length);
    return out.join("\n") + (endsWithNewline ? "\n" : "");
  }

  private format(out: string[], widths: number[], line0: number, line1: number): void {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= (this.lines[i]?.length ?? 0) - 1) continue;
      // A cell exists in this column: write the lines before the block, then size the block.
      this.writeLines(out, widths, start, i);
      start = i;
      let width = this.opts.minWidth;
      for (; i < line1; i++) {
        const line = this.lines[i] ?? [];
        if (column >= line.length - 1) break;
        width = Math.max(width, textWidth(line[column] ?? "") + this.opts.padding);
      }
      if (this.opts.rememberWidths) {
        width = Math.max(width, this.remembered[column] ?? 0);
        this.remembered[column] = width;
      }
      this.format(out, [...widths, width], start, i);
      start = i;
      i--; // the for loop's i++ must not skip the line that ended the block
    }
    this.writeLines(out, widths, start, line1);
  }

  private writeLines(out: string[], widths: number[], line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const cells = this.lines[i] ?? [];
      let s = "";
      cells.forEach((cell, j) => {
        s += cell;
        const w = widths[j];
        if (w !== undefined && j < cells.length - 1) s += " ".repeat(Math.max(0, w - textWidth(cell)));
      });
      out.push(s);
    }
  }
}

/** Format a whole text with tab-separated cells in one go. */
export function tabify(text: string, opts: TabWriterOptions = DESCRIBE_TABWRITER): string {
  const w = new TabWriter({ ...opts, rememberWidths: false });
  w.write(text);
  return w.flush();
}
