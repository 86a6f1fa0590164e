import type { FieldNode, GraphQLResolveInfo } from "graphql";

/**
 * The field nodes that resolve one field in one place of a document, as one
 * object that stands for the same list every time (documents come from
 * Yoga's parse cache, so their nodes are the same objects every time).
 *
 * Key anything worked out from a field's selection (the columns a list
 * reads, whether it counts, its batch) by this, not by `info.fieldNodes[0]`:
 * a fragment's field node can stand alone in one place of a document and be
 * merged with other selections of the same field in another.
 */
export interface FieldSet {
  readonly nodes: readonly FieldNode[];
}

const setsByFirstNode = new WeakMap<FieldNode, FieldSet[]>();

export function fieldSetOf(info: Pick<GraphQLResolveInfo, "fieldNodes">): FieldSet {
  const nodes = info.fieldNodes;
  let sets = setsByFirstNode.get(nodes[0]!);
  if (!sets) {
    sets = [];
    setsByFirstNode.set(nodes[0]!, sets);
  }
  let set = sets.find((s) => s.nodes.length === nodes.length && s.nodes.every((n, i) => n === nodes[i]));
  if (!set) {
    set = { nodes: [...nodes] };
    sets.push(set);
  }
  return set;
}
