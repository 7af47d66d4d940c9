from aggregator.cli import main

# Guarded: parse worker processes (spawn) import the main module again.
if __name__ == "__main__":
    main()
