// Calls to the RnnService API: JSON in and out; RFC 9457 problem details and network failures become sentences.
// The page decides by a problem's machine-readable `code` (README, "Errors"), never by its wording.

export class ApiError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, url, { body, key, signal } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key !== undefined) {
    if (!/^[\x20-\x7e]+$/.test(key)) throw new ApiError('The API key may only contain printable ASCII characters.', 0, null);
    headers['X-Api-Key'] = key;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError('Could not reach the service (network error). Check that it is running and try again.', 0, null);
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    if (response.ok) throw new ApiError('The service sent an answer the page cannot read.', response.status, null);
  }
  if (!response.ok) throw new ApiError(describeProblem(response, data), response.status, data);
  return data;
}

/** One sentence (or one per line) a person can act on, from an RFC 9457 problem. */
export function describeProblem(response, problem) {
  switch (problem?.code) {
    // One message per invalid field, each naming the field (by its JSON name) and its rule, as a sentence.
    case 'validation': {
      const messages = [...new Set(Object.values(problem.errors ?? {}).flat())];
      return messages.map((message) => message[0].toUpperCase() + message.slice(1)).join('\n') || problem.detail;
    }
    case 'rate-limited': {
      const retry = problem.retryAfterSeconds ?? response.headers.get('Retry-After');
      return `Too many requests; try again ${retry ? `in ${retry} s` : 'shortly'}.`;
    }
    case undefined: return `The service answered ${response.status} ${response.statusText}.`.replace(' .', '.');
    default: return problem.detail || problem.title;
  }
}

export function showError(element, error) {
  element.textContent = error ? (error instanceof ApiError ? error.message : `Something went wrong: ${error.message ?? error}`) : '';
}

