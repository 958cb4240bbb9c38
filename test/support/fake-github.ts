import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeComment {
  id: number
  body: string
  user: { login: string }
}

export interface FakeGitHubOptions {
  /**
   * The user the token acts as; `GET /user` answers with it when
   * `userEndpoint` is true. The default is the workflow token, which may not
   * call `GET /user` (403) and writes as `github-actions[bot]`.
   */
  login?: string
  userEndpoint?: boolean
}

export interface FakeGitHub extends AsyncDisposable {
  url: string
  /** Comments of the one pull request this fake knows. */
  comments: FakeComment[]
  /** Authorization headers received, to check the token was used. */
  authorizations: string[]
  /** Edits refused because the comment was someone else's. */
  refusedEdits: number[]
  /** A comment written by someone else (or by the token's user, earlier). */
  addComment(login: string, body: string): FakeComment
}

/**
 * The REST calls the pull-request comment makes (who am I, list, create,
 * update issue comments), on 127.0.0.1, reached as GITHUB_API_URL. Like
 * GitHub, it refuses (403) an edit of a comment the token's user did not write.
 */
export async function startFakeGitHub(
  owner: string,
  repo: string,
  pull: number,
  options: FakeGitHubOptions = {}
): Promise<FakeGitHub> {
  const login = options.login ?? 'github-actions[bot]'
  const comments: FakeComment[] = []
  const authorizations: string[] = []
  const refusedEdits: number[] = []
  let nextId = 100
  const addComment = (author: string, body: string): FakeComment => {
    const comment = { id: nextId++, body, user: { login: author } }
    comments.push(comment)
    return comment
  }
  const list = `/repos/${owner}/${repo}/issues/${pull}/comments`
  const one = new RegExp(`^/repos/${owner}/${repo}/issues/comments/(\\d+)$`)
  const server = createServer((req, res) => {
    void (async () => {
      authorizations.push(req.headers.authorization ?? '')
      const url = new URL(req.url ?? '/', 'http://localhost')
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (req.method === 'GET' && url.pathname === '/user') {
        if (options.userEndpoint) send(200, { login })
        else send(403, { message: 'Resource not accessible by integration' })
      } else if (req.method === 'GET' && url.pathname === list) {
        send(200, comments)
      } else if (req.method === 'POST' && url.pathname === list) {
        const { body } = (await readJson(req)) as { body: string }
        send(201, addComment(login, body))
      } else if (req.method === 'PATCH' && one.test(url.pathname)) {
        const id = Number(one.exec(url.pathname)?.[1])
        const comment = comments.find(c => c.id === id)
        if (!comment) {
          send(404, { message: 'Not Found' })
          return
        }
        if (comment.user.login !== login) {
          refusedEdits.push(id)
          send(403, { message: 'Resource not accessible by integration' })
          return
        }
        comment.body = ((await readJson(req)) as { body: string }).body
        send(200, comment)
      } else {
        send(404, { message: 'Not Found' })
      }
    })()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://localhost:${port}`,
    comments,
    authorizations,
    refusedEdits,
    addComment,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
}
