/**
 * Assignments (`/api/assignments...`): list what the caller may see, create
 * one (reviewers and admins), start one (a workspace with its starter files),
 * and the grades table's CSV link. Answers as lib/result.ts says, never throws.
 * A student's view holds no test files or names: the server leaves them out.
 */
import { requestJson } from "./apiJson";
import type { Result } from "./result";

/** Who may see an assignment: everyone signed in, a list of users, or whoever has the join code. */
export type Visibility = "everyone" | "users" | "join_code";
export type Files = Record<string, string>;

export type Assignment = {
  id: string;
  title: string;
  description: string;
  due_at?: string | null;
  visibility?: unknown;
  owner?: string;
  /** Present for reviewers of the assignment only. */
  starter?: Files;
  tests?: Files;
  visible_tests?: Files;
  created_at?: string;
};

export type NewAssignment = {
  title: string;
  description: string;
  starter: Files;
  tests: Files;
  visible_tests?: Files;
  due_at?: string;
  visibility?: unknown;
  reviewers?: string[];
};

export async function listAssignments(): Promise<Result<{ assignments: Assignment[] }>> {
  const result = await requestJson<Assignment[]>("GET", "/api/assignments");
  return result.ok ? { ok: true, assignments: result.data } : result;
}

export async function createAssignment(assignment: NewAssignment): Promise<Result<{ assignment: Assignment }>> {
  const result = await requestJson<Assignment>("POST", "/api/assignments", assignment);
  return result.ok ? { ok: true, assignment: result.data } : result;
}

/** A new workspace of the caller's holding the assignment's starter files. */
export async function startAssignment(assignmentId: string): Promise<Result<{ workspaceId: string }>> {
  const result = await requestJson<{ id: string }>("POST", `/api/assignments/${encodeURIComponent(assignmentId)}/start`);
  return result.ok ? { ok: true, workspaceId: result.data.id } : result;
}

/** The grades table (students × latest submission) as CSV, for the assignment's reviewers. */
export function gradesCsvUrl(assignmentId: string): string {
  return `/api/assignments/${encodeURIComponent(assignmentId)}/grades.csv`;
}
