# Login shells (the IDE's terminals) get the PATH runs get: /etc/profile resets
# it, and programs that `pip install` puts in the workspace live in /app/.local/bin.
case ":$PATH:" in
  *:/app/.local/bin:*) ;;
  *) PATH="/app/.local/bin:$PATH" ;;
esac
export PATH
