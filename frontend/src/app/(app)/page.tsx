import type { Metadata } from "next";
import { WorkspaceDashboard } from "@/components/WorkspaceDashboard";

export const metadata: Metadata = { title: "Workspaces" };

export default function HomePage() {
  return <WorkspaceDashboard />;
}
