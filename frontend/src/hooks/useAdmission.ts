"use client";

import { useSyncExternalStore } from "react";
import { admissionState, subscribeAdmission, type AdmissionState } from "@/lib/admission";

const IDLE: AdmissionState = { kind: "idle" };

/** The admission state (lib/admission.ts), re-rendering when it changes. */
export function useAdmission(): AdmissionState {
  return useSyncExternalStore(subscribeAdmission, admissionState, () => IDLE);
}
