import type { Metadata } from "next";
import { AssignmentsPage } from "@/components/review/ReviewPages";

export const metadata: Metadata = { title: "Assignments" };

export default function Assignments() {
  return <AssignmentsPage />;
}
