import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeComment {
  id: number
  body: string
  user: { login: string }
}

/** A pull request in GitHub's REST shape (the fields the action reads, and a few more). */
export interface FakePull {
  number: number
  html_url: string
  state: 'open' | 'closed'
  title: string
  user: { login: string; type: string }
  head: { ref: string; sha: string }
  base: { ref: string; sha: string }
  merged_at: string | null
  merge_commit_sha: string | null
}

/** A review in GitHub's REST shape (`GET /repos/{o}/{r}/pulls/{n}/reviews`). */
export interface FakeReview {
  id: number
  user: { login: string; type: string }
  body: string
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED'
  commit_id: string
  submitted_at: string
  author_association: string
}

/** The pull request's page: the plan record's salt. */
export function pullUrl(owner: string, repo: string, pull: number): string {
  return `https://github.com/${owner}/${repo}/pull/${pull}`
}

export interface FakeGitHubOptions {
  /**
   * The user the token acts as; `GET /user` answers with it when
   * `userEndpoint` is true. The default is the workflow token, which may not
   * call `GET /user` (403) and writes as `github-actions[bot]`.
   */
  login?: string
  userEndpoint?: boolean
  /** The pull request's head commit (the harness's default head). */
  head?: string
  /** Its author. */
  author?: string
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
  /** Every pull request this fake knows; the first is the one commented on. */
  pulls: FakePull[]
  /** Reviews of the first pull request, oldest first. */
  reviews: FakeReview[]
  /** A review; by a member of the organisation unless `association` says otherwise. */
  addReview(
    login: string,
    state: FakeReview['state'],
    commit?: string,
    association?: string
  ): void
  /** Merges a pull request into `base` as `mergeSha` (the push's GITHUB_SHA). */
  merge(mergeSha: string, number?: number, base?: string): void
  /** Another pull request (not commented on). */
  addPull(number: number, head: string): FakePull
  /** Requests other than GET, to check a run wrote nothing to GitHub. */
  writes: string[]
  /** The next `count` writes answer 502, as GitHub does when it is down. */
  failWrites(count: number): void
  /** Called as a comment is read by its id, before the answer (another run's edit, say). */
  onCommentRead?: (comment: FakeComment) => void
}

/**
 * The REST calls the pull-request comment makes (who am I, list, get,
 * create, update issue comments), on 127.0.0.1, reached as GITHUB_API_URL. Like
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
  const writes: string[] = []
  const reviews: FakeReview[] = []
  const pulls: FakePull[] = []
  const addPull = (number: number, head: string): FakePull => {
    const added: FakePull = {
      number,
      html_url: pullUrl(owner, repo, number),
      state: 'open',
      title: `Pull request ${number}`,
      user: { login: options.author ?? 'alice', type: 'User' },
      head: { ref: `feature-${number}`, sha: head },
      base: { ref: 'main', sha: 'ba5e'.repeat(10) },
      merged_at: null,
      merge_commit_sha: null
    }
    pulls.push(added)
    return added
  }
  addPull(pull, options.head ?? 'feedc0de'.repeat(5))
  const authorizations: string[] = []
  const refusedEdits: number[] = []
  let nextId = 100
  let failingWrites = 0
  const addComment = (author: string, body: string): FakeComment => {
    const comment = { id: nextId++, body, user: { login: author } }
    comments.push(comment)
    return comment
  }
  const list = `/repos/${owner}/${repo}/issues/${pull}/comments`
  const one = new RegExp(`^/repos/${owner}/${repo}/issues/comments/(\\d+)$`)
  const ofCommit = new RegExp(`^/repos/${owner}/${repo}/commits/(\\w+)/pulls$`)
  const reviewList = `/repos/${owner}/${repo}/pulls/${pull}/reviews`
  const server = createServer((req, res) => {
    void (async () => {
      authorizations.push(req.headers.authorization ?? '')
      if (req.method !== 'GET') writes.push(`${req.method} ${req.url}`)
      const url = new URL(req.url ?? '/', 'http://localhost')
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (req.method !== 'GET' && failingWrites > 0) {
        failingWrites--
        send(502, { message: 'Server Error' })
        return
      }
      if (req.method === 'GET' && url.pathname === '/user') {
        if (options.userEndpoint) send(200, { login })
        else send(403, { message: 'Resource not accessible by integration' })
      } else if (req.method === 'GET' && ofCommit.test(url.pathname)) {
        // As GitHub: the pull requests whose head or merge commit it is.
        const sha = ofCommit.exec(url.pathname)?.[1]
        send(
          200,
          pulls.filter(p => p.head.sha === sha || p.merge_commit_sha === sha)
        )
      } else if (req.method === 'GET' && one.test(url.pathname)) {
        const id = Number(one.exec(url.pathname)?.[1])
        const comment = comments.find(c => c.id === id)
        if (comment) fake.onCommentRead?.(comment)
        if (comment) send(200, comment)
        else send(404, { message: 'Not Found' })
      } else if (req.method === 'GET' && url.pathname === reviewList) {
        send(200, reviews)
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
  const fake: FakeGitHub = {
    url: `http://localhost:${port}`,
    comments,
    authorizations,
    refusedEdits,
    addComment,
    pulls,
    reviews,
    writes,
    failWrites(count) {
      failingWrites = count
    },
    addPull,
    addReview(author, state, commit, association = 'MEMBER') {
      reviews.push({
        id: 9000 + reviews.length,
        user: { login: author, type: 'User' },
        body: '',
        state,
        commit_id: commit ?? (pulls[0] as FakePull).head.sha,
        submitted_at: new Date(Date.UTC(2026, 0, 1)).toISOString(),
        author_association: association
      })
    },
    merge(mergeSha, number = pull, base = 'main') {
      const merged = pulls.find(p => p.number === number) as FakePull
      merged.state = 'closed'
      merged.base.ref = base
      merged.merged_at = new Date(Date.UTC(2026, 0, 2)).toISOString()
      merged.merge_commit_sha = mergeSha
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
  return fake
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
}
