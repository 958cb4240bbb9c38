import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeComment {
  id: number
  body: string
}

export interface FakeGitHub extends AsyncDisposable {
  url: string
  /** Comments of the one pull request this fake knows. */
  comments: FakeComment[]
  /** Authorization headers received, to check the token was used. */
  authorizations: string[]
}

/**
 * Just the three REST calls the pull-request comment makes (list, create,
 * update issue comments), on 127.0.0.1, reached as GITHUB_API_URL.
 */
export async function startFakeGitHub(
  owner: string,
  repo: string,
  pull: number
): Promise<FakeGitHub> {
  const comments: FakeComment[] = []
  const authorizations: string[] = []
  let nextId = 100
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
      if (req.method === 'GET' && url.pathname === list) {
        send(200, comments)
      } else if (req.method === 'POST' && url.pathname === list) {
        const { body } = (await readJson(req)) as { body: string }
        const comment = { id: nextId++, body }
        comments.push(comment)
        send(201, comment)
      } else if (req.method === 'PATCH' && one.test(url.pathname)) {
        const id = Number(one.exec(url.pathname)?.[1])
        const comment = comments.find(c => c.id === id)
        if (!comment) {
          send(404, { message: 'Not Found' })
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
