/**
 * Server-sent events for answers the gateway makes itself: a cached completion replayed to a client that
 * asked for stream: true, and the error event that ends a stream whose upstream died mid-way (the OpenAI
 * clients raise it as an error instead of returning a silently truncated answer).
 */

type Json = Record<string, unknown>;

/** The chunks of a streamed answer equivalent to a complete chat or text completion. */
export function completionToSse(body: string): string {
  const c = JSON.parse(body) as Json;
  const chat = c.object === 'chat.completion';
  const base = { id: c.id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: c.created, model: c.model };
  const choices = (c.choices as Json[] | undefined) ?? [];
  const events: Json[] = [];
  for (const ch of choices) {
    const msg = (ch.message as Json | undefined) ?? {};
    const content = chat ? { delta: { role: msg.role ?? 'assistant', content: msg.content ?? '' } } : { text: ch.text ?? '' };
    events.push({ ...base, choices: [{ index: ch.index ?? 0, ...content, finish_reason: null }] });
    events.push({ ...base, choices: [{ index: ch.index ?? 0, ...(chat ? { delta: {} } : { text: '' }), finish_reason: ch.finish_reason ?? 'stop' }] });
  }
  if (c.usage) events.push({ ...base, choices: [], usage: c.usage });
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n';
}

export function sseError(message: string, code: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'upstream_error', code } })}\n\n`;
}
