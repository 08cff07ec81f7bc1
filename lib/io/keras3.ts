/**
 * Model descriptions written by Keras 3 (directly, or copied as is by `tensorflowjs_converter`) in
 * the Keras 2 vocabulary that TensorFlow.js 4 reads.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Keras 3's description of a layer's input: `{ class_name: '__keras_tensor__', config: { keras_history: [layer, node, tensor] } }`. */
function kerasHistory(value: Json): [string, number, number] | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value) || value.class_name !== '__keras_tensor__') return undefined;
  const config = value.config as { keras_history?: [string, number, number] } | null;
  return config?.keras_history;
}

/** Keras 3's `inbound_nodes` (`[{ args: [tensor or [tensors]], kwargs }]`) as Keras 2's (`[[[layer, node, tensor, kwargs], ...]]`). */
function keras2InboundNodes(nodes: Json[]): Json[] {
  return nodes.map((node) => {
    if (!node || typeof node !== 'object' || Array.isArray(node) || !Array.isArray(node.args)) return node;
    const inputs: Json[] = [];
    const collect = (value: Json) => {
      const history = kerasHistory(value);
      if (history) inputs.push([history[0], history[1], history[2], {}]);
      else if (Array.isArray(value)) value.forEach(collect);
    };
    node.args.forEach(collect);
    return inputs;
  });
}

/**
 * A Keras 3 model topology rewritten in the Keras 2 vocabulary TensorFlow.js reads: `batch_shape`
 * becomes `batch_input_shape`, dtype policies become dtype names, inbound nodes and a lone input or
 * output take Keras 2's form. Keras 2 topologies come back unchanged. (`tensorflowjs_converter` copies Keras 3's JSON as
 * is, which TensorFlow.js 4 cannot load: "An InputLayer should be passed either a batchInputShape...".)
 */
export function tfjsTopology(topology: unknown): unknown {
  return rewriteTopology(topology as Json);
}

function rewriteTopology(topology: Json): Json {
  if (Array.isArray(topology)) return topology.map(rewriteTopology);
  if (!topology || typeof topology !== 'object') return topology;
  if ((topology.class_name === 'DTypePolicy' || topology.class_name === 'FloatDTypePolicy') && topology.config && typeof topology.config === 'object' && !Array.isArray(topology.config)) {
    return (topology.config as { name?: Json }).name ?? 'float32';
  }
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(topology)) {
    if (key === 'batch_shape' && !('batch_input_shape' in topology)) out.batch_input_shape = value;
    else if (key === 'inbound_nodes' && Array.isArray(value)) out[key] = keras2InboundNodes(value);
    // Keras 3 writes a single input or output as ["name", 0, 0]; Keras 2 as a list of them.
    else if ((key === 'input_layers' || key === 'output_layers') && Array.isArray(value) && typeof value[0] === 'string') out[key] = [value];
    else out[key] = rewriteTopology(value);
  }
  return out;
}
