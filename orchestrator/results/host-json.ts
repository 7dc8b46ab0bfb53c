// Reading a JSON file a host sent back: absent is "nothing there" (undefined), anything that is
// not JSON is an error of the caller's kind, naming the file. What the value means is for the
// caller's schema to decide.
import { readFile } from 'node:fs/promises';

export async function readHostJson(path: string, toError: (message: string) => Error): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw toError(`${path}: not JSON: ${(error as Error).message}`);
  }
}
