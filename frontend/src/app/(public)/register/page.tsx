import type { Metadata } from "next";
import { CredentialsForm } from "@/components/CredentialsForm";

export const metadata: Metadata = { title: "Create account" };

export default function RegisterPage() {
  return <CredentialsForm mode="register" />;
}
