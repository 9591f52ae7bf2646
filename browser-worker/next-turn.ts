/**
 * Runs `fn` on a later turn of the event loop, like Node's setImmediate. A MessageChannel rather
 * than setTimeout(0): browsers delay timers in hidden tabs by a second or more, and a volunteer's
 * tab is usually hidden, while message events are delivered at once.
 */
export const nextTurn = (() => {
  const queue: (() => void)[] = [];
  const channel = new MessageChannel();
  channel.port1.onmessage = () => queue.shift()?.();
  return (fn: () => void): void => {
    queue.push(fn);
    channel.port2.postMessage(null);
  };
})();
