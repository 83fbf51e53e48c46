// Calls to the RnnService API: JSON in and out; RFC 9457 problem details and network failures become sentences.

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
  const messages = [];
  if (problem && typeof problem.errors === 'object' && problem.errors !== null) {
    for (const [field, list] of Object.entries(problem.errors)) {
      for (const message of [].concat(list)) {
        messages.push(/could not be converted|is invalid JSON|JSON value/i.test(message)
          ? `The value of ${field.replace(/^\$\.?/, '') || 'the request'} is not valid.`
          : message);
      }
    }
  }
  if (messages.length > 0) return [...new Set(messages)].join('\n');
  switch (response.status) {
    // The service says which: no key sent, or not its key (never repeating the key).
    case 401: return problem?.detail || 'The API key is missing or wrong.';
    case 403: return problem?.detail || 'This API key may not do that.';
    case 413: return 'The request is too large.';
    case 429: {
      const retry = response.headers.get('Retry-After');
      return `Too many requests; try again ${retry ? `in ${retry} s` : 'shortly'}.`;
    }
    default: {
      const text = [problem?.title, problem?.detail].filter(Boolean).join(' ');
      return text || `The service answered ${response.status} ${response.statusText}.`.replace(' .', '.');
    }
  }
}

export function showError(element, error) {
  element.textContent = error ? (error instanceof ApiError ? error.message : `Something went wrong: ${error.message ?? error}`) : '';
}

