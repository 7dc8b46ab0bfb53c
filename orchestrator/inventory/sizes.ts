// Sizes as people write them: "50G", "512M", "1.5K", "1000" (K/M/G/T are powers of 1024).

export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)} (expected e.g. 50G, 512M, 1024)`);
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}
