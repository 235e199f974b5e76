import type { Consumer } from '@platformatic/kafka';

interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

// ListOffsets' special timestamp for the first offset still in the log (-1 is the log end)
const LOG_START = -2n;

/**
 * Consumer lag of the partitions a member owns: the log end offset minus the group's committed
 * offset. A partition the group never committed counts from the first offset still in the log,
 * where the member starts reading (fallbackMode 'earliest').
 */
export async function partitionLags(
  consumer: Consumer<string, string, string, string>,
  owned: readonly PartitionRef[],
): Promise<{ topic: string; partition: number; lag: number }[]> {
  if (owned.length === 0) return [];
  const ends = await consumer.listOffsets(request(owned));
  const committed = await consumer.listCommittedOffsets({
    topics: Object.entries(request(owned).partitions).map(([topic, partitions]) => ({ topic, partitions })),
  });
  const at = (offsets: Map<string, bigint[]>, { topic, partition }: PartitionRef) =>
    offsets.get(topic)?.[partition];
  const never = owned.filter((p) => (at(committed, p) ?? -1n) < 0n);
  const starts =
    never.length === 0
      ? new Map<string, bigint[]>()
      : await consumer.listOffsets({ ...request(never), timestamp: LOG_START });
  return owned.flatMap((p) => {
    const end = at(ends, p);
    const from = (at(committed, p) ?? -1n) >= 0n ? at(committed, p) : at(starts, p);
    if (end === undefined || from === undefined) return [];
    return [{ topic: p.topic, partition: p.partition, lag: Number(end > from ? end - from : 0n) }];
  });
}

function request(refs: readonly PartitionRef[]): { topics: string[]; partitions: Record<string, number[]> } {
  const partitions: Record<string, number[]> = {};
  for (const { topic, partition } of refs) (partitions[topic] ??= []).push(partition);
  return { topics: Object.keys(partitions), partitions };
}
