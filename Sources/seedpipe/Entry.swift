import SeedpipeCLI

@main
struct Entry {
    static func main() async {
        await SeedpipeCLI.main()
    }
}
