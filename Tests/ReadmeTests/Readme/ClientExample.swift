import Foundation

// The README's Seedance client example, compiled here (ReadmeExampleTests checks the README shows it).
// README: begin
import SeedanceAPI

func generateOne(clipURL: URL) async throws {
    let client = SeedanceClient()                              // SEGMIND_API_KEY, Segmind's hosts
    let request = GenerationRequest(prompt: "A waterfall at dawn", duration: 5, returnLastFrame: true)
    let job = try await client.submit(request)                 // checked first: every broken rule at once
    let result = try await client.wait(for: job)               // .inferenceFailed on FAILED, .timedOut keeps the id
    try await client.download(result.output!, to: clipURL)     // streamed, size-capped, atomic
}
// README: end
