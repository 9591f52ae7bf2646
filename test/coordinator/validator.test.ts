import { describe, expect, it } from 'vitest';
import { exactAgree, groupVotes, judge, MAX_LOST_NETWORKS, type Tally, type Vote } from '../../coordinator/validator.js';

/** A vote from `worker`, in a network of its own unless `network` says otherwise. */
const vote = (taskId: number, worker: string, digest: string, network = worker): Vote => ({ taskId, worker, network, cpuMs: 0, digest, output: new Uint8Array() });
const tally = (t: Partial<Tally>): Tally => ({ votes: [], errors: 0, issued: 0, outstanding: 0, want: 0, ...t });
const rules = { quorum: 2, maxTasks: 5, maxErrors: 3 };

describe('validator', () => {
  it('accepts when a quorum agrees, canonical = earliest agreeing vote, the rest invalid', () => {
    const v = judge(tally({ votes: [vote(1, 'a', 'x'), vote(2, 'b', 'y'), vote(3, 'c', 'y')], issued: 3 }), rules);
    expect(v.type).toBe('accept');
    if (v.type !== 'accept') return;
    expect(v.canonical.taskId).toBe(2);
    expect(v.agreeing.map((x) => x.taskId)).toEqual([2, 3]);
    expect(v.disagreeing.map((x) => x.taskId)).toEqual([1]);
  });

  it('counts agreeing votes of one network once: siblings in one /24 never make a quorum on their own', () => {
    const siblings = [vote(1, 'a', 'x', '10.1.1.0/24'), vote(2, 'b', 'x', '10.1.1.0/24'), vote(3, 'c', 'x', '10.1.1.0/24')];
    expect(judge(tally({ votes: siblings, issued: 3 }), rules)).toEqual({ type: 'issue', count: 1 });
    const v = judge(tally({ votes: [...siblings, vote(4, 'd', 'x', '10.1.2.0/24')], issued: 4 }), rules);
    expect(v.type).toBe('accept');
  });

  it('waits while enough tasks are still out to reach the quorum', () => {
    expect(judge(tally({ votes: [vote(1, 'a', 'x')], issued: 2, outstanding: 1 }), rules)).toEqual({ type: 'wait' });
  });

  it('issues more tasks on disagreement', () => {
    expect(judge(tally({ votes: [vote(1, 'a', 'x'), vote(2, 'b', 'y')], issued: 2 }), rules)).toEqual({ type: 'issue', count: 1 });
  });

  it('gives up with no_quorum once maxTasks is reached and nothing is out', () => {
    const votes = [vote(1, 'a', 'x'), vote(2, 'b', 'y'), vote(3, 'c', 'z'), vote(4, 'd', 'w'), vote(5, 'e', 'v')];
    expect(judge(tally({ votes, issued: 5 }), rules)).toMatchObject({ type: 'fail', reason: 'no_quorum' });
  });

  it('counts a task that threw as an error, not a vote, and fails after maxErrors', () => {
    expect(judge(tally({ errors: 1, issued: 2, outstanding: 1 }), rules)).toEqual({ type: 'issue', count: 1 });
    expect(judge(tally({ errors: 3, issued: 3 }), rules)).toMatchObject({ type: 'fail', reason: 'too_many_errors' });
  });

  it('never issues past maxTasks', () => {
    expect(judge(tally({ votes: [vote(1, 'a', 'x')], issued: 5 }), { ...rules, maxTasks: 5 })).toMatchObject({ type: 'fail' });
    expect(judge(tally({ votes: [], issued: 4 }), { quorum: 3, maxTasks: 5, maxErrors: 3 })).toEqual({ type: 'issue', count: 1 });
  });

  it('with a quorum of one, the first result is canonical', () => {
    expect(judge(tally({ votes: [vote(1, 'a', 'x')], issued: 1 }), { ...rules, quorum: 1 })).toMatchObject({ type: 'accept' });
  });

  it('groups with a custom agreement (tolerance) instead of digests', () => {
    const near = (a: Vote, b: Vote) => Math.abs(Number(a.digest) - Number(b.digest)) < 0.01;
    const groups = groupVotes([vote(1, 'a', '1.000'), vote(2, 'b', '1.001'), vote(3, 'c', '2')], near);
    expect(groups.map((g) => g.length)).toEqual([2, 1]);
    expect(groupVotes([vote(1, 'a', '1.000'), vote(2, 'b', '1.001')], exactAgree)).toHaveLength(2);
  });
});

describe('validator: units that lose their tasks', () => {
  it('fails with workers_lost once tasks were lost in MAX_LOST_NETWORKS networks, not after maxTasks', () => {
    expect(MAX_LOST_NETWORKS).toBe(3);
    // Two lost: another try.
    expect(judge(tally({ lost: 2, issued: 2 }), rules)).toEqual({ type: 'issue', count: 2 });
    expect(judge(tally({ lost: 3, issued: 3 }), rules)).toMatchObject({ type: 'fail', reason: 'workers_lost' });
    // A quorum reached meanwhile still wins.
    expect(judge(tally({ votes: [vote(1, 'a', 'x'), vote(2, 'b', 'x')], lost: 3, issued: 5 }), rules)).toMatchObject({ type: 'accept' });
  });
});
