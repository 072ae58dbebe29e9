/**
 * A minimal PNG line chart for the soak (bench/soak.ts): stacked panels, one series each,
 * scaled to its own range, with light grid lines every tenth of the x axis. No text: the
 * caption in docs/performance.md names the panels. PNG per RFC 2083 (8-bit RGB, deflate).
 */
import { crc32, deflateSync } from 'node:zlib';

export interface Panel {
  values: readonly number[];
  /** RGB of the line */
  color: [number, number, number];
  /** the y range starts at 0 (memory) rather than the series' minimum */
  fromZero?: boolean;
}

export function plotPng(panels: readonly Panel[], width = 900, panelHeight = 160): Buffer {
  const height = panelHeight * panels.length;
  const px = Buffer.alloc(width * height * 3, 255);
  const set = (x: number, y: number, [r, g, b]: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    px[i] = r!;
    px[i + 1] = g!;
    px[i + 2] = b!;
  };
  const margin = 10;
  panels.forEach((p, n) => {
    const top = n * panelHeight + margin;
    const bottom = (n + 1) * panelHeight - margin;
    for (let x = 0; x < width; x++) set(x, (n + 1) * panelHeight - 1, [180, 180, 180]);
    for (let k = 0; k <= 10; k++) for (let y = top; y <= bottom; y += 3) set(Math.round(margin + ((width - 2 * margin) * k) / 10), y, [225, 225, 225]);
    const finite = p.values.filter(Number.isFinite);
    if (finite.length < 2) return;
    const lo = p.fromZero ? 0 : Math.min(...finite);
    const hi = Math.max(...finite);
    const span = hi - lo || 1;
    const xy = (i: number, v: number): [number, number] => [
      Math.round(margin + ((width - 2 * margin) * i) / (p.values.length - 1)),
      Math.round(bottom - ((bottom - top) * (v - lo)) / span),
    ];
    for (let i = 1; i < p.values.length; i++) {
      const [a, b] = [p.values[i - 1]!, p.values[i]!];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      line(xy(i - 1, a), xy(i, b), (x, y) => {
        set(x, y, p.color);
        set(x, y + 1, p.color);
      });
    }
  });
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) px.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Bresenham's line from a to b. */
function line([x0, y0]: [number, number], [x1, y1]: [number, number], plot: (x: number, y: number) => void): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    plot(x0, y0);
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}
