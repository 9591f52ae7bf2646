import { decodeInput, decodeOutput, encodeInput, encodeOutput } from '../../jobs/codec.js';
import type { Artifact, JobKind, Json } from '../../jobs/types.js';

export interface BatchRun<I, O> {
  inputs: I[];
  outputs: O[];
  artifact: Artifact;
}

/**
 * Runs a whole batch the way the grid does, minus the network: generate, encode the input for
 * the wire, decode and validate it on the "worker", run, encode the output, decode it on the
 * "coordinator", fold it into the reducer in work-unit order, finish.
 */
export function runBatch<I, O, A>(kind: JobKind<I, O, A>, params: Json): BatchRun<I, O> {
  if (!kind.generate || !kind.reducer) throw new Error(`${kind.name} has no generator or reducer`);
  const inputs = [...kind.generate(params)];
  const outputs: O[] = [];
  let acc = kind.reducer.init(params, inputs.length);
  inputs.forEach((input, seq) => {
    const received = kind.validateInput(decodeInput(encodeInput(input)));
    const output = decodeOutput(kind, encodeOutput(kind, kind.run(received))) as O;
    outputs.push(output);
    acc = kind.reducer!.add(acc, output, received, seq);
  });
  return { inputs, outputs, artifact: kind.reducer.finish(acc) };
}

export function artifactText(artifact: Artifact): string {
  return new TextDecoder().decode(artifact.bytes);
}

/** Encoded output of one work unit, as a worker would send it. */
export function runEncoded<I>(kind: JobKind<I>, input: unknown): Uint8Array {
  return encodeOutput(kind, kind.run(kind.validateInput(decodeInput(encodeInput(input)))));
}
