/**
 * Assignments (`/api/assignments...`), through the typed client: list what the
 * caller may see, create one (reviewers and admins), join one by its code,
 * start one (a workspace with its starter files), release its results, and
 * the grades table's CSV link. Answers as lib/result.ts says, never throws.
 * A student's view holds no hidden test files or names: the server leaves
 * them out (`tests` is null for anyone but the assignment's reviewers).
 */
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { attempt, failure, type Result } from "./result";

type Schemas = components["schemas"];
export type Assignment = Schemas["AssignmentOut"];
export type NewAssignment = Schemas["AssignmentCreate"];
export type Visibility = NonNullable<NewAssignment["visibility"]>;
export type Release = NonNullable<NewAssignment["release"]>;
export type HiddenVisibility = NonNullable<NewAssignment["hidden_tests_visibility"]>;

const one = (assignmentId: string) => ({ path: { assignment_id: assignmentId } });

export function listAssignments(): Promise<Result<{ assignments: Assignment[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/assignments");
    return data !== undefined ? { ok: true, assignments: data } : failure(error, response);
  });
}

export function createAssignment(assignment: NewAssignment): Promise<Result<{ assignment: Assignment }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/assignments", { body: assignment });
    return data !== undefined ? { ok: true, assignment: data } : failure(error, response);
  });
}

/** See an assignment whose visibility is `code`, by the code its reviewer handed out. */
export function joinAssignment(code: string): Promise<Result<{ assignment: Assignment }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/assignment-joins", { body: { code } });
    return data !== undefined
      ? { ok: true, assignment: data }
      : failure(error, response, { 404: "No assignment has this join code." });
  });
}

/** Release the hidden results and review scores to students now (release `manual`). */
export function releaseResults(assignmentId: string): Promise<Result<{ assignment: Assignment }>> {
  return attempt(async () => {
    const { data, error, response } = await api.PATCH("/api/assignments/{assignment_id}", {
      params: one(assignmentId),
      body: { released: true, clear_due_at: false },
    });
    return data !== undefined ? { ok: true, assignment: data } : failure(error, response);
  });
}

/** A new workspace of the caller's holding the assignment's starter files and visible tests. */
export function startAssignment(assignmentId: string): Promise<Result<{ workspaceId: string }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/assignments/{assignment_id}/start", { params: one(assignmentId) });
    return data !== undefined ? { ok: true, workspaceId: data.id } : failure(error, response);
  });
}

/** The grades table (students × latest submission) as CSV, for the assignment's reviewers. */
export function gradesCsvUrl(assignmentId: string): string {
  return `/api/assignments/${encodeURIComponent(assignmentId)}/grades.csv`;
}
