// Looks inside zod schemas: which schema validates the value at a path, what it says it
// expects (its description), and which keys an object schema knows. Used to explain issues
// and to suggest the closest known key for an unknown one, for our schemas and scenarios' own.

import * as z from 'zod';

type Segment = PropertyKey;

/** The parts of zod's internal definitions we look at. */
interface Def {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
}

function defOf(schema: z.core.$ZodType): Def {
  return schema._zod.def as unknown as Def;
}

/** The schemas that `schema` wraps, outermost first (optional, nullable, default, pipe...). */
function layers(schema: z.core.$ZodType): z.core.$ZodType[] {
  const result: z.core.$ZodType[] = [];
  let current: z.core.$ZodType | undefined = schema;
  while (current && result.length < 50) {
    result.push(current);
    const def = defOf(current);
    current =
      def.innerType ?? (def.type === 'pipe' ? def.in : def.type === 'lazy' ? def.getter?.() : undefined);
  }
  return result;
}

/** The schemas that could validate the value under `segment` of a value `schema` validates. */
function children(schema: z.core.$ZodType, segment: Segment): z.core.$ZodType[] {
  const found: z.core.$ZodType[] = [];
  for (const layer of layers(schema)) {
    const def = defOf(layer);
    if (def.type === 'object' && typeof segment === 'string' && def.shape?.[segment]) found.push(def.shape[segment]);
    if (def.type === 'record' && def.valueType) found.push(def.valueType);
    if (def.type === 'array' && typeof segment === 'number' && def.element) found.push(def.element);
    if (def.type === 'union') for (const option of def.options ?? []) found.push(...children(option, segment));
    if (def.type === 'intersection') {
      if (def.left) found.push(...children(def.left, segment));
      if (def.right) found.push(...children(def.right, segment));
    }
  }
  return found;
}

/** Every schema that could apply at `path` below `root`. */
export function schemasAt(root: z.core.$ZodType, path: readonly Segment[]): z.core.$ZodType[] {
  let current = [root];
  for (const segment of path) current = current.flatMap((schema) => children(schema, segment));
  return current;
}

/** The first description found on the schema at `path` or anything it wraps. */
export function descriptionAt(root: z.core.$ZodType, path: readonly Segment[]): string | undefined {
  for (const schema of schemasAt(root, path)) {
    for (const layer of layers(schema)) {
      const description = z.globalRegistry.get(layer)?.description;
      if (description) return description;
    }
  }
  return undefined;
}

/** Keys an object schema at `path` accepts, in the order written (empty when none is known). */
export function knownKeysAt(root: z.core.$ZodType, path: readonly Segment[]): string[] {
  const keys = new Set<string>();
  const collect = (schema: z.core.$ZodType): void => {
    for (const layer of layers(schema)) {
      const def = defOf(layer);
      if (def.type === 'object') for (const key of Object.keys(def.shape ?? {})) keys.add(key);
      if (def.type === 'union') for (const option of def.options ?? []) collect(option);
      if (def.type === 'intersection') {
        if (def.left) collect(def.left);
        if (def.right) collect(def.right);
      }
    }
  };
  for (const schema of schemasAt(root, path)) collect(schema);
  return [...keys];
}
