import type { components, operations } from "./api-schema";

/**
 * The API's types, generated from its OpenAPI document (`npm run api:types` writes
 * components/api-schema.d.ts with openapi-typescript; a unit test fails when it is stale).
 * `ApiSchema<"LedgerRecord">` is a named schema; `Answer<"objectives">` what an operation answers
 * on success. The console types its calls with these rather than copies of the server's types.
 */
export type ApiSchema<Name extends keyof components["schemas"]> = components["schemas"][Name];
type SuccessOf<Responses> = Responses extends { 200: infer A } ? A : Responses extends { 201: infer A } ? A : Responses extends { 202: infer A } ? A : never;
export type Answer<Id extends keyof operations> = SuccessOf<operations[Id]["responses"]> extends { content: { "application/json": infer Body } } ? Body : never;
/** What an operation takes as its JSON body. */
export type RequestBody<Id extends keyof operations> = operations[Id] extends { requestBody: { content: { "application/json": infer Body } } } ? Body : never;

// The stream writes the protocol's own types (server/realtime-protocol.ts) into the caches the
// HTTP answers fill: they must fit the document's types (checked by tsc; a drift fails the build).
type Fits<Value, Contract> = [Value] extends [Contract] ? true : false;
type Check<T extends true> = T;
export type ContractChecks = [
  Check<Fits<import("@/server/realtime-protocol").AccountView, ApiSchema<"AccountView">>>,
  Check<Fits<import("@/server/realtime-protocol").LedgerRecord, ApiSchema<"LedgerRecord">>>,
  Check<Fits<import("@/server/realtime-protocol").DecisionRecord, ApiSchema<"DecisionRecord">>>,
  Check<Fits<import("@/server/realtime-protocol").FirmView, ApiSchema<"FirmView">>>,
  Check<Fits<import("@/server/overview-protocol").OverviewPage, ApiSchema<"OverviewPage">>>,
];
