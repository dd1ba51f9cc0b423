import Foundation
import Pipeline

/// `1 generation`, `3 generations`: a count with its noun, singular for one.
package func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

extension Plan {
    /// "plan: 3 cached, 2 to run; 1 generation to pay for (5 s of video)", and for shots
    /// with several takes a line saying which take each uses and how many takes the run adds.
    public var summary: String {
        let cached = steps.filter { $0.status == .cached }.count
        let resuming = steps.filter { $0.status == .resume }.count
        let toRun = steps.count - cached - resuming
        var text = "plan: \(cached) cached, " + (resuming > 0 ? "\(resuming) to resume (sent before, nothing new to pay), " : "")
            + "\(toRun) to run; \(plural(generations, "generation")) "
        if cost.emulated {
            // An emulator's work: what it bills is its own credits, not money.
            text += "to emulate (\(secondsToPay) s of video"
                + ((cost.money ?? 0) > 0 ? String(format: ", $%.2f of emulator credits", cost.money!) : "") + ", nothing paid)"
        } else {
            text += "to pay for (\(secondsToPay) s of video"
            if generations > 0 {
                text += cost.money.map { String(format: ", about $%.2f", $0) } ?? ", price unknown: give --price-per-second"
            }
            text += ")"
        }
        let picked = steps.compactMap(\.take).filter(\.picked)
        if !picked.isEmpty {
            let added = steps.filter { $0.take != nil && $0.status == .generate }.count
            text += "\ntakes: " + picked.map { "\($0.shot): \($0.summary)" }.joined(separator: ", ")
                + "; this run adds \(added == 1 ? "1 take" : "\(added) takes")"
        }
        return text
    }
}

extension RunReport {
    /// What a run paid for, and what an emulator made in place of paid work: `; paid for 2
    /// generations, $0.80` or `; emulated 3 generations (12 s of video, nothing paid)`.
    public var spentSummary: String {
        var text = ""
        if paid.generations > 0 {
            text += "; paid for \(plural(paid.generations, "generation"))" + (paid.money.map { String(format: ", $%.2f", $0) } ?? "")
        }
        if emulated.generations > 0 {
            let credits = (emulated.money ?? 0) > 0 ? String(format: ", $%.2f of emulator credits", emulated.money!) : ""
            text += "; emulated \(plural(emulated.generations, "generation")) (\(Int(emulated.seconds.rounded())) s of video\(credits), nothing paid)"
        }
        if resumed.generations > 0 {
            text += "; fetched \(plural(resumed.generations, "generation")) sent before it was interrupted (nothing new paid)"
        }
        return text
    }
}
