import type { Metadata } from "next";
import { AdminPage } from "@/components/AdminPage";

export const metadata: Metadata = { title: "Administration" };

export default function Admin() {
  return <AdminPage />;
}
